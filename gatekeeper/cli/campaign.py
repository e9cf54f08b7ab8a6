"""The sender's command: `simulate` a campaign against an audience of gatekeepers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import cast

import click

from ..terminal import inert, inert_data, safe_console
from . import main
from .common import PIPE_WIDTH, console, parse_duration, reports_errors

@main.command()
@click.argument("campaigns", nargs=-1, required=True, metavar="CAMPAIGN.eml [VARIANT.eml]...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audience", "audience_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Personas as YAML or CSV (default: the built-in audience of 16+ personas).")
@click.option("--recipients", type=click.IntRange(1, 10_000_000), default=10_000,
              show_default=True, help="Recipients to sample around the personas.")
@click.option("--sends", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Send the campaign this many times, as a series.")
@click.option("--every", default="7d", show_default=True,
              help="Time between sends of a series: 12h, 7d, 2w.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--subject", help="Subject, for an HTML campaign (a file without mail headers).")
@click.option("--from", "sender", help="From address, for an HTML campaign.")
@click.option("--complaint-rate", type=click.FloatRange(0, 1), metavar="RATE",
              help="Your spam-complaint rate lately (0.001 = 0.1%), from your provider's "
                   "postmaster tools: counted in the placement forecast.")
@click.option("--usual-volume", type=click.IntRange(1, None), metavar="N",
              help="Messages a day you usually send: --recipients far above it is a volume "
                   "spike, a risk of its own.")
@click.option("--dormant-share", type=click.FloatRange(0, 1), default=0.0, metavar="SHARE",
              help="Share of your list with no opens or clicks for 12 months (0-1).")
@click.option("--dns", "check_dns", is_flag=True,
              help="Also look up the From domain's SPF and DMARC records (needs network); "
                   "the forecast counts what it finds.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an HTML report with charts here.")
@click.option("--fail-under", type=click.FloatRange(0, 1), metavar="RATE",
              help="Exit with code 1 when the first campaign's pass rate is below RATE (0-1).")
@reports_errors
def simulate(campaigns: tuple[Path, ...], audience_file: Path | None, recipients: int,
             sends: int, every: str, seed: int, subject: str | None, sender: str | None,
             complaint_rate: float | None, usual_volume: int | None, dormant_share: float,
             check_dns: bool, as_json: bool, html_file: Path | None,
             fail_under: float | None) -> None:
    """Where would this campaign land, and would people's AI gatekeepers let it through?

    Answers two questions. Placement: the chance a large mailbox provider puts it in the
    primary inbox, a promotions tab or spam, from a documented points model of what
    Gmail, Yahoo and Microsoft publish that they check (authentication, one-click
    unsubscribe, complaint rate, volume, promotional or transactional content, message
    build), with the changes that would help most, each forecast again with the change
    made. Relevance: recipients sampled around an audience of personas, each with a
    profile built the way the gatekeeper builds one and decided by its policy: pass /
    hold / delete per segment with 95% intervals, and the sentences that help or hurt.

    With --sends, the series: complaint and unsubscribe rates per send against the 0.08%,
    0.2% and 0.3% marks providers hold senders to, and recipients gone quiet for 12
    months. Several files rank variants (A/B/n) on the same recipients and say when a
    gap is within noise. The pass rate (the share passed by gatekeepers, averaged over
    the sends) is what --fail-under checks.

    A file with mail headers is a message (.eml); one without them that is HTML is an
    HTML campaign and needs --subject and --from; anything else is refused.

    Example: gatekeeper simulate launch.eml launch-b.eml --sends 6 --html report.html
    """
    from ..campaign.audience import load_audience
    from ..campaign.campaign_report import html_report, terminal_report
    from ..campaign.lint import lint_dns
    from ..campaign.placement import SenderFacts
    from ..campaign.simulate import load_campaign, simulate as run_simulation
    from ..core.embed import OnnxEmbedder
    from ..mail.config import paths

    every_days = parse_duration(every) / 86400.0
    loaded = [load_campaign(path, subject, sender) for path in campaigns]
    audience = load_audience(audience_file)
    for campaign in loaded:  # loud, before any result, on stderr so --json stays clean
        for warning in campaign.warnings:
            click.secho(f"WARNING {inert(campaign.name)}: {inert(warning)}", err=True,
                        fg="red", bold=True)
    dns_findings = ([lint_dns(campaign.message.from_domain) for campaign in loaded]
                    if check_dns else None)
    with console.status(f"simulating {recipients:,} recipients"):
        report = run_simulation(loaded, audience, OnnxEmbedder(), recipients=recipients,
                                sends=sends, every_days=every_days, seed=seed,
                                cache_dir=paths().data / "cache" / "personas",
                                facts=SenderFacts(complaint_rate=complaint_rate,
                                                  usual_volume=usual_volume),
                                dormant_share=dormant_share, dns_findings=dns_findings)
    data = report.to_dict()
    if html_file:
        html_file.write_text(html_report(data), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        # In a pipe there is no screen to fit: a width no line reaches, so no word is
        # ever broken across lines (a terminal wraps at spaces at its own width).
        out = console if console.is_terminal else safe_console(PIPE_WIDTH)
        for part in terminal_report(cast(dict, inert_data(data))):
            out.print(part)
        if html_file:
            out.print(f"Report written to {html_file}")
    if fail_under is not None and report.pass_rate(0) < fail_under:
        click.echo(f"pass rate {report.pass_rate(0):.1%} is under {fail_under:.1%}", err=True)
        sys.exit(1)
