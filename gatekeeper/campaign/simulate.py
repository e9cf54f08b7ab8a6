"""The campaign simulator: would this campaign get through gatekeepers like ours, for whom, why.

A sender gives a campaign (.eml) and an audience of personas (`gatekeeper.campaign.audience`).
Each persona becomes a real `Brain`: its plain-language interests are the cold start and
the example messages it engaged with or ignored are learned with `Brain.learn_history`,
exactly as a reader's history is. The campaign is scored by each persona's profile and
decided by `policy.decide`, the code the daemon runs.

Recipients are sampled around their persona as one matrix, not N objects. Each recipient
differs from its persona by
- a taste: a random vector in a low-rank subspace of the embedding space, so two variants
  close in meaning get correlated reactions from the same recipient;
- how strongly they hold the persona's interests (a factor on the interest prior);
- how much bulk mail they put up with (the persona's tolerance, with spread).

A series (`sends > 1`) replays what the daemon does between sends, vectorised: each
recipient reacts to what reached them (reads what they want, ignores or deletes the rest,
now and then rescues wanted mail from the held folder), the sender memory records it with
the formulas of `gatekeeper.core.senders`, and the profile takes the bounded online steps of
`InterestProfile.partial_fit`, replayed in closed form on the campaign's row: both through
`gatekeeper.core.replay`. (The daemon's periodic consolidation refit is not replayed.)
Recipients are modelled as settled users of the gatekeeper: their profiles hold at least
`SETTLED_EXAMPLES` examples, so the evidence guard rail does not apply, but the others do:
a sender nobody has thrown away yet is held at worst, never deleted.

This module never imports the mailbox, the actions or the daemon.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..core.brain import similar_thrown_away
from ..core.embed import Embedder
from ..core.metrics import Z_95, wilson
from ..core.policy import ACTIONS, History, PolicySettings, decide, pass_threshold
from ..core.replay import (BEHAVIOURS, CODE, OnlineRows, SenderReplay,  # noqa: F401
                           as_new_sender, key_kinds, message_rows, probability)
from ..core.vocabulary import Behaviour
from ..errors import InputError
from .audience import Audience
from .campaign import SENT_AT, Campaign, load_campaign, read_campaign  # noqa: F401
from .lint import Finding, lint_message
from .list_health import DORMANT_DAYS, SECONDS_PER_DAY, ListHealth, SendHealth
from .placement import Placement, SenderFacts, forecast
from .segments import Segment, build_segments
from .verdict import Change, ranked_changes

SCHEMA = "gatekeeper.simulation/1"
START = SENT_AT  # the simulated clock starts at 2026-01-01 (any fixed time works)
SETTLED_EXAMPLES = 200  # examples a settled reader's profile holds
TASTE_RANK = 16  # dimensions of the subspace in which recipients' tastes differ
TASTE_SD = 1.0  # log-odds: spread of individual taste around the persona
INTEREST_SD = 0.25  # log-normal spread of how strongly recipients hold the interests
TOLERANCE_LOGIT = 2.0  # bulk tolerance 0..1 maps to -1..+1 log-odds on bulk mail
TOLERANCE_SD = 0.3
RESCUE_SHARE = 0.3  # of wanted mail held, the share readers find and rescue
READ_SOON_SHARE = 0.5  # of wanted mail passed, the share read within the hour
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•])")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.I)
# Footer and framing lines every campaign has: attributing relevance to them tells a
# sender nothing (and each costs a re-read by the model).
_BOILERPLATE = re.compile(
    r"unsubscribe|opt[ -]out|manage (?:your )?(?:preferences|subscription)|"
    r"(?:you(?:'re| are)? )?receiv(?:e|ing) this|view (?:it |this )?(?:in|as) (?:a |your )?"
    r"(?:browser|web page)|privacy (?:policy|notice)|all rights reserved|terms (?:of|and) "
    r"|©|\(c\) \d{4}|update your preferences|sent (?:to|by) |our mailing address", re.I)
MIN_SENTENCE_WORDS = 3


# -- the recipients --------------------------------------------------------------------
@dataclass
class Population:
    """Every recipient as a row: the persona it belongs to and how it differs from it."""

    segment: np.ndarray  # (R,) index of each recipient's persona
    taste: np.ndarray  # (R, TASTE_RANK) coordinates of individual taste
    interest_strength: np.ndarray  # (R,) factor on the persona's interest prior
    bulk_shift: np.ndarray  # (R,) log-odds added to bulk mail
    basis: np.ndarray  # (TASTE_RANK, dim) orthonormal directions tastes vary along
    days_since_engaged: np.ndarray | None = None  # (R,) before the first send; None: all just did

    @classmethod
    def sample(cls, audience: Audience, recipients: int, dimension: int,
               rng: np.random.Generator, dormant_share: float = 0.0) -> Population:
        """`dormant_share` of the recipients (drawn at random) last engaged over a year
        ago: the sender's own count of addresses gone quiet."""
        counts = audience.allocate(recipients)
        segment = np.repeat(np.arange(len(counts)), counts)
        tolerance = np.array([p.bulk_tolerance for p in audience.personas])[segment]
        basis, _ = np.linalg.qr(rng.normal(size=(dimension, TASTE_RANK)))
        return cls(
            segment=segment,
            taste=rng.normal(size=(len(segment), TASTE_RANK)),
            interest_strength=np.exp(rng.normal(0.0, INTEREST_SD, len(segment))),
            bulk_shift=(tolerance - 0.5) * TOLERANCE_LOGIT
            + rng.normal(0.0, TOLERANCE_SD, len(segment)),
            basis=basis.T,
            # Drawn last, and only when asked for: the other draws stay as they were.
            days_since_engaged=np.where(rng.random(len(segment)) < dormant_share,
                                        float(DORMANT_DAYS), 0.0) if dormant_share else None,
        )

    def __len__(self) -> int:
        return len(self.segment)

    def taste_logits(self, embedding: np.ndarray) -> np.ndarray:
        """Each recipient's own log-odds for a message of this meaning."""
        projection = self.basis @ embedding
        norm = float(np.linalg.norm(projection))
        return TASTE_SD * (self.taste @ projection) / norm if norm else np.zeros(len(self))


# -- one send ------------------------------------------------------------------------------
@dataclass
class CampaignScores:
    """How each persona's profile reads the campaign, before any recipient differences."""

    interests: np.ndarray  # (S,) the interest prior's share of the log-odds
    junk: np.ndarray  # (S,) the junk prior's share of the log-odds (0 or less)
    closest_junk: tuple[str, float]  # the junk statement it reads closest to, and the cosine
    rows: OnlineRows  # (S,) the campaign's row as each profile learns on it (`core.replay`)
    similar_thrown_away: np.ndarray  # (S,) persona examples like it that were thrown away
    embedding: np.ndarray

    @property
    def logit(self) -> np.ndarray:
        """(S,) log-odds with no sender history."""
        return self.rows.log_odds


def score_campaign(campaign: Campaign, segments: Sequence[Segment]) -> CampaignScores:
    message = campaign.message
    interests, junk, rows, similar = [], [], [], []
    embedding = segments[0].brain.embed([message])
    for segment in segments:
        brain, profile = segment.brain, segment.brain.profile
        evidence = as_new_sender(brain.evidence([message], embedding, START))
        explanation = profile.explain(evidence)[0]
        interests.append(explanation.contributions.get("interests", 0.0))
        junk.append(explanation.contributions.get("junk", 0.0))
        rows.append(message_rows(profile, evidence))
        similar.append(similar_thrown_away(explanation,
                                           bool(brain.reads_like_junk(embedding)[0])))
    return CampaignScores(np.array(interests), np.array(junk),
                          segments[0].brain.closest_junk(embedding[0]), OnlineRows.stack(rows),
                          np.array(similar), embedding[0])


@dataclass
class SendOutcome:
    """What happened to one send, recipient by recipient."""

    action: np.ndarray  # (R,) index into ACTIONS
    p_wanted: np.ndarray  # (R,) the gatekeeper's P(wanted)
    behaviour: np.ndarray  # (R,) index into BEHAVIOURS
    engaged: np.ndarray  # (R,) bool: read or rescued it
    health: SendHealth  # complaints, unsubscribes and dormant recipients of this send
    placement: Placement  # where the provider puts this send


class Simulation:
    """One campaign sent to one sampled population, once or as a series."""

    def __init__(self, campaign: Campaign, segments: Sequence[Segment], population: Population,
                 settings: PolicySettings, seed: int, every_days: float = 7.0,
                 findings: Sequence[Finding] = (), facts: SenderFacts | None = None) -> None:
        self.campaign = campaign
        self.every = every_days * SECONDS_PER_DAY
        self.population = population
        self.settings = settings
        self.scores = score_campaign(campaign, segments)
        seg = population.segment
        # What each recipient's gatekeeper learns of the sender and the campaign, send by send.
        self.learned = SenderReplay(self.scores.rows.take(seg), segments[0].brain.memory, START,
                                    key_kinds(campaign.message))
        self.is_bulk = campaign.message.is_bulk
        # The recipient's own reading of the campaign: fixed across sends.
        self.static_logit = (self.scores.logit[seg]
                             + (population.interest_strength - 1.0) * self.scores.interests[seg]
                             + population.taste_logits(self.scores.embedding)
                             + (population.bulk_shift if self.is_bulk else 0.0))
        # How much each recipient wants it, and how quickly they give up on unwanted mail:
        # what they do when it reaches them.
        self.want = probability(self.static_logit)
        self.disengage = np.array([s.persona.disengage_speed for s in segments])[seg]
        self.rng = np.random.default_rng(seed)
        self.sends = 0
        self.health = ListHealth(len(population), campaign.message, START, seed,
                                 population.days_since_engaged)
        self.findings, self.facts = list(findings), facts or SenderFacts()
        self.complaint_rate = self.facts.complaint_rate  # what the provider has seen so far

    def send(self) -> SendOutcome:
        """Deliver the campaign once more, decide for each recipient, let them react."""
        now = START + self.sends * self.every
        self.learned.advance(now)
        logits = self.learned.log_odds(self.static_logit)
        p_wanted = probability(logits)
        action = self._decide(p_wanted)
        behaviour, engaged = self._react(action)
        # At the provider, from the second send on, with the complaints the sends before drew.
        placement = forecast(self.campaign.message, self.findings,
                             replace(self.facts, complaint_rate=self.complaint_rate))
        health = self.health.send(now, placement.inbox, self.want, self.disengage)
        drawn = health.complaint_rate
        self.complaint_rate = drawn if self.complaint_rate is None else max(
            self.complaint_rate, drawn)
        self.learned.react(behaviour, logits)
        self.sends += 1
        return SendOutcome(action, p_wanted, behaviour, engaged, health, placement)

    def _decide(self, p_wanted: np.ndarray) -> np.ndarray:
        """policy.decide for each recipient, with the History its gatekeeper would have."""
        message, learned, seg = self.campaign.message, self.learned, self.population.segment
        index = {action: i for i, action in enumerate(ACTIONS)}
        base_id = message.message_id or "campaign"
        similar = self.scores.similar_thrown_away
        actions = np.empty(len(p_wanted), dtype=np.int8)
        for i, p in enumerate(p_wanted.tolist()):
            history = History(sender_messages=int(round(learned.delivered[i])),
                              sender_thrown_away=float(learned.thrown_away[i]),
                              similar_thrown_away=int(similar[seg[i]]),
                              profile_examples=SETTLED_EXAMPLES)
            # Each recipient draws their own probes, so they fall on different people.
            verdict = decide(p, message, history, self.settings,
                             probe_key=f"{self.sends}.{i}.{base_id}")
            actions[i] = index[verdict.action]
        return actions

    def _react(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What each recipient does with what reached them (nothing, for deleted mail)."""
        code, n = CODE, len(action)
        draws = self.rng.random((3, n))
        wants = draws[0] < self.want
        behaviour = np.full(n, code[Behaviour.DELIVERED])
        passed, held = action == 0, action == 1
        reads = passed & wants
        behaviour[reads] = np.where(draws[1][reads] < READ_SOON_SHARE, code[Behaviour.READ_SOON],
                                    code[Behaviour.READ])
        unread = passed & ~wants
        behaviour[unread] = np.where(draws[2][unread] < self.disengage[unread],
                                     code[Behaviour.DELETED_UNREAD], code[Behaviour.IGNORED])
        rescued = held & wants & (draws[1] < RESCUE_SHARE)
        behaviour[rescued] = code[Behaviour.RESCUED]
        cleared = held & ~wants & (draws[2] < self.disengage * 0.5)
        behaviour[cleared] = code[Behaviour.DELETED_FROM_HELD]
        behaviour[held & ~rescued & ~cleared] = code[Behaviour.HELD]
        return behaviour, reads | rescued


# -- results ---------------------------------------------------------------------------
def _shares(action: np.ndarray, mask: np.ndarray) -> dict[str, dict[str, float]]:
    n = int(mask.sum())
    result = {}
    for index, name in enumerate(ACTIONS):
        count = int((action[mask] == index).sum())
        low, high = wilson(count, n)
        result[name] = {"share": count / n if n else 0.0, "low": low, "high": high}
    return result


def sentence_effects(campaign: Campaign, segments: Sequence[Segment],
                     limit: int = 40) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Leave-one-out: (sentences, (S, n) log-odds each adds, (S,) the subject's effect).

    Each sentence is dropped in turn and the rest re-embedded; sentences past the part
    of the message the model reads have no effect, which is itself worth knowing. Footer
    boilerplate and bare links are not attributed; links are left out of the sentences
    shown.
    """
    message = campaign.message
    sentences = [s.strip() for s in _SENTENCE_END.split(message.text) if _worth_attributing(s)]
    sentences = list(dict.fromkeys(sentences))[:limit]
    variants = [replace(message, text=message.text.replace(s, " ", 1)) for s in sentences]
    variants.append(replace(message, subject=""))
    embedder = segments[0].brain.embedder
    # Straight to the embedder: the brain's cache is keyed by the unchanged content hash.
    embeddings = embedder.embed_many([m.text_for_embedding() for m in [message, *variants]])
    effects = np.zeros((len(segments), len(variants)))
    for row, segment in enumerate(segments):
        brain = segment.brain
        original = as_new_sender(brain.evidence([message], embeddings[:1], START))
        # Every variant keeps the original's signals: only its words and meaning change.
        evidence = replace(original, embeddings=embeddings,
                           texts=[m.text_for_words() for m in [message, *variants]],
                           signals=np.repeat(original.signals, len(variants) + 1, axis=0),
                           notes=[])
        logits = brain.profile.decision_function(evidence)
        effects[row] = logits[0] - logits[1:]
    shown = [" ".join(_URL.sub("", sentence).split()) for sentence in sentences]
    return shown, effects[:, :-1], effects[:, -1]


def _worth_attributing(sentence: str) -> bool:
    """A sentence of the message's own content: words beside any links, not a footer."""
    words = _URL.sub(" ", sentence).split()
    return len(words) >= MIN_SENTENCE_WORDS and not _BOILERPLATE.search(sentence)


@dataclass
class VariantResult:
    campaign: Campaign
    sends: list[SendOutcome]
    scores: CampaignScores
    sentences: list[str]
    sentence_effects: np.ndarray
    subject_effects: np.ndarray
    findings: list[Finding]
    changes: list[Change]  # what would raise the inbox share, best first

    @property
    def placement(self) -> Placement:
        """The provider's forecast for the first send."""
        return self.sends[0].placement

    @property
    def pass_rate(self) -> float:
        """The share of recipients in whose inbox it lands, averaged over the sends."""
        return float(np.mean([(send.action == 0).mean() for send in self.sends]))


@dataclass
class SimulationReport:
    """Everything `simulate` measured; `to_dict` gives the documented JSON."""

    audience: Audience
    recipients: int
    seed: int
    every_days: float
    population: Population
    settings: PolicySettings
    variants: list[VariantResult] = field(default_factory=list)

    def segment_masks(self) -> list[np.ndarray]:
        return [self.population.segment == s for s in range(len(self.audience.personas))]

    def pass_rate(self, variant: int = 0) -> float:
        return self.variants[variant].pass_rate

    def to_dict(self) -> dict:
        masks = self.segment_masks()
        everyone = np.ones(self.recipients, bool)
        return {
            "schema": SCHEMA,
            "audience": self.audience.name,
            "recipients": self.recipients,
            "seed": self.seed,
            "sends": len(self.variants[0].sends),
            "every_days": self.every_days,
            "assumptions": {
                "settled_examples": SETTLED_EXAMPLES, "taste_sd": TASTE_SD,
                "interest_sd": INTEREST_SD, "rescue_share": RESCUE_SHARE,
                "interval": "95% Wilson interval over the sampled recipients",
            },
            "variants": [self._variant_dict(v, masks, everyone) for v in self.variants],
            "ranking": self.ranking(),
        }

    def _variant_dict(self, variant: VariantResult, masks, everyone) -> dict:
        first = variant.sends[0]
        personas = self.audience.personas
        segments = []
        for s, (persona, mask) in enumerate(zip(personas, masks)):
            effects = variant.sentence_effects[s] if len(variant.sentences) else np.zeros(0)
            order = np.argsort(effects)
            segments.append({
                "name": persona.name,
                "market": persona.market,
                "recipients": int(mask.sum()),
                "actions": _shares(first.action, mask),
                "mean_p_wanted": float(first.p_wanted[mask].mean()) if mask.any() else 0.0,
                "relevance": _relevance(variant.scores.logit[s], variant.scores.interests[s],
                                        self.settings),
                "subject_effect": float(variant.subject_effects[s]),
                "lifts": [{"sentence": variant.sentences[i], "effect": float(effects[i])}
                          for i in order[::-1][:3] if effects[i] > 0.05],
                "sinks": [{"sentence": variant.sentences[i], "effect": float(effects[i])}
                          for i in order[:3] if effects[i] < -0.05],
                "turning_points": _turning_points(variant.sends, mask),
            })
        return {
            "name": variant.campaign.name,
            "subject": variant.campaign.message.subject,
            "from": variant.campaign.message.from_address,
            "actions": _shares(first.action, everyone),
            "pass_rate": variant.pass_rate,
            "segments": segments,
            "headline": _headline(variant, segments),
            "placement": variant.placement.to_dict(),
            "changes": [change.to_dict() for change in variant.changes],
            "warnings": list(variant.campaign.warnings),
            "reads_like_junk": _reads_like_junk(variant.scores),
            "series": [{**self._send_dict(k, send, masks), **send.health.to_dict(),
                        "spam_placement": send.placement.spam}
                       for k, send in enumerate(variant.sends)],
            "findings": [f.to_dict() for f in variant.findings],
        }

    def _send_dict(self, k: int, send: SendOutcome, masks) -> dict:
        def shares(mask: np.ndarray) -> dict[str, float]:
            actions = send.action[mask]
            return {**{name: float((actions == i).mean()) for i, name in enumerate(ACTIONS)},
                    "engaged": float(send.engaged[mask].mean())}

        return {"send": k + 1, **shares(np.ones(len(send.action), bool)),
                "segments": {p.name: shares(m) for p, m in zip(self.audience.personas, masks)
                             if m.any()}}

    def reach(self, variant: int) -> np.ndarray:
        """(R,) each recipient's chance of seeing the first send: the provider puts it in
        the inbox (primary or promotions) and their gatekeeper passes it."""
        result = self.variants[variant]
        return result.placement.inbox * (result.sends[0].action == 0)

    def ranking(self) -> list[dict]:
        """Variants best first by reach (placement and relevance together), each with the
        difference to the best on the same recipients, overall and per segment (pass share),
        and whether that difference is within the noise of sampling the recipients."""
        order = sorted(range(len(self.variants)), key=lambda v: self.reach(v).mean(),
                       reverse=True)
        best = self.variants[order[0]].sends[0].action == 0
        ranked = []
        for place, v in enumerate(order, start=1):
            passed = self.variants[v].sends[0].action == 0
            gap = _paired_difference(self.reach(v), self.reach(order[0]))
            ranked.append({
                "place": place, "name": self.variants[v].campaign.name,
                "reach": float(self.reach(v).mean()),
                "inbox": self.variants[v].placement.inbox,
                "pass_rate": self.pass_rate(v),
                "reach_difference": gap,
                "within_noise": place > 1 and gap["high"] >= 0,
                "difference_to_best": {p.name: _paired_difference(passed[m], best[m])
                                       for p, m in zip(self.audience.personas,
                                                       self.segment_masks()) if m.any()},
            })
        return ranked


def _reads_like_junk(scores: CampaignScores) -> dict | None:
    """What the junk prior holds against the campaign (None: nothing): the junk statement
    it reads closest to, and the log-odds that costs it, on average over the personas."""
    if not (scores.junk < 0).any():
        return None
    statement, similarity = scores.closest_junk
    return {"statement": statement, "similarity": similarity,
            "log_odds": float(scores.junk.mean())}


def _relevance(logit: float, interests: float, settings: PolicySettings) -> str:
    threshold = pass_threshold(settings)
    if logit >= math.log(threshold / (1.0 - threshold)):  # likely enough wanted to pass
        return "relevant"
    if interests <= 0 and logit < 0:
        return "irrelevant"
    return "mixed"


def _turning_points(sends: Sequence[SendOutcome], mask: np.ndarray) -> dict:
    """The first send at which most of a segment no longer sees it, and deletes start."""
    holding = deleting = None
    for k, send in enumerate(sends, start=1):
        actions = send.action[mask]
        if holding is None and (actions != 0).mean() > 0.5:
            holding = k
        if deleting is None and (actions == 2).mean() >= 0.05:
            deleting = k
    return {"mostly_held_from": holding, "deleting_from": deleting}


def _headline(variant: VariantResult, segments: list[dict]) -> dict:
    """The answer in one sentence, and the main risk in another."""
    placement, passed = variant.placement, float((variant.sends[0].action == 0).mean())
    risk = placement.main_risk()
    if risk is not None and placement.spam >= 0.1:
        main_risk = _risk_words(risk)
    elif passed < 0.5:
        keen = [s["name"] for s in sorted(segments, key=lambda s: -s["actions"]["pass"]["share"])
                if s["actions"]["pass"]["share"] >= 0.5][:3]
        main_risk = (f"Relevance: gatekeepers hold it for {1 - passed:.0%} of readers"
                     + (f"; it speaks to {', '.join(keen)}" if keen else
                        "; no segment mostly wants it"))
    elif risk is not None:
        main_risk = _risk_words(risk)
    else:
        main_risk = "None stands out"
    return {
        "inbox": placement.inbox, "primary": placement.primary,
        "promotions": placement.promotions, "spam": placement.spam,
        "gatekeeper_pass": passed, "reach": placement.inbox * passed, "main_risk": main_risk,
        "summary": (f"{placement.inbox:.0%} expected in the inbox at a large mailbox provider "
                    f"({placement.primary:.0%} primary, {placement.promotions:.0%} promotions "
                    f"tab, {placement.spam:.0%} spam); readers with a gatekeeper like ours "
                    f"would see it in {passed:.0%} of inboxes."),
    }


def _risk_words(risk) -> str:
    """A factor and the rule it breaks, the rule named without its detail."""
    return f"{risk.name} ({risk.source.split(':')[0]})"


def _paired_difference(passed: np.ndarray, best: np.ndarray) -> dict:
    """Mean difference in pass share (or reach) on the same recipients, with a normal 95%
    interval."""
    difference = passed.astype(float) - best.astype(float)
    mean = float(difference.mean())
    half = Z_95 * float(difference.std(ddof=1)) / math.sqrt(len(difference)) \
        if len(difference) > 1 else 0.0
    return {"difference": mean, "low": mean - half, "high": mean + half}


def simulate(campaigns: Sequence[Campaign], audience: Audience, embedder: Embedder, *,
             recipients: int = 10_000, sends: int = 1, every_days: float = 7.0, seed: int = 0,
             settings: PolicySettings | None = None, explain: bool = True,
             segments: Sequence[Segment] | None = None, cache_dir: Path | None = None,
             facts: SenderFacts | None = None, dormant_share: float = 0.0,
             dns_findings: Sequence[Sequence[Finding]] | None = None) -> SimulationReport:
    """Send each campaign (variant) to the same sampled audience `sends` times.

    The personas' brains are `segments` when given, else cached ones (`build_segments`,
    on disk in `cache_dir` when given). `facts` are what the sender knows of their own
    complaint rate and usual volume; `dormant_share` the share of the list that has not
    engaged for a year; `dns_findings` (one list per campaign) the From domains' DNS
    checks, which the placement forecast counts too.
    """
    if not campaigns:
        raise InputError("give at least one campaign")
    if recipients < 1 or sends < 1 or every_days <= 0:
        raise InputError("recipients and sends must be at least 1 and the interval positive")
    if not 0 <= dormant_share <= 1:
        raise InputError(f"the dormant share must be from 0 to 1, not {dormant_share}")
    settings = settings or PolicySettings()
    facts = replace(facts or SenderFacts(), volume=recipients)
    segments = segments or build_segments(audience, embedder, settings, cache_dir)
    population = Population.sample(audience, recipients, embedder.dimension,
                                   np.random.default_rng(seed), dormant_share)
    report = SimulationReport(audience, recipients, seed, every_days, population, settings)
    for index, campaign in enumerate(campaigns):
        findings = lint_message(campaign.raw, campaign.message)
        domain_findings = list(dns_findings[index]) if dns_findings else []
        run = Simulation(campaign, segments, population, settings, seed, every_days,
                         findings + domain_findings, facts)
        outcomes = [run.send() for _ in range(sends)]
        sentences, effects, subject = (sentence_effects(campaign, segments) if explain else
                                       ([], np.zeros((len(segments), 0)), np.zeros(len(segments))))
        report.variants.append(VariantResult(
            campaign, outcomes, run.scores, sentences, effects, subject,
            findings + domain_findings,
            ranked_changes(campaign.raw, findings, facts, domain_findings)))
    return report
