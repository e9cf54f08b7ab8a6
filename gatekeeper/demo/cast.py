"""Who writes to the demo's reader, and the templates their mail is written from.

Every name, address and domain is made up (`.example` is reserved for this). Templates
hold `{slots}`: the sender's and reader's names come from the message being written,
every other slot is drawn from `words.WORDS` once per message (so a subject and its body
agree), and no two messages of a sender read the same.
"""

from __future__ import annotations

from dataclasses import dataclass

PERSONAL, WORK, NEWSLETTER, PROMOTION, TRANSACTIONAL, PHISHING = (
    "personal", "work", "newsletter", "promotion", "transactional", "phishing")
KINDS = (PERSONAL, WORK, NEWSLETTER, PROMOTION, TRANSACTIONAL, PHISHING)
# Share of the received mail of each kind.
KIND_SHARES = {PERSONAL: 0.13, WORK: 0.19, NEWSLETTER: 0.26, PROMOTION: 0.30,
               TRANSACTIONAL: 0.07, PHISHING: 0.05}
RECEIVING_HOST = "mx.fernmail.example"  # the reader's provider, which writes Authentication-Results


@dataclass(frozen=True)
class Sender:
    """Someone who writes to the reader, and whether the reader wants their mail."""

    name: str
    address: str
    kind: str
    wanted: bool
    style: str  # the key of its templates in STYLES
    weight: float = 1.0  # how often it writes, against the others of its kind
    signoff: str = ""  # how it signs personal mail ("" = its first name)
    forged: bool = False  # fails the receiving server's checks (spoofed or lookalike)
    since_day: int = 0  # first writes on this day of the calendar: new senders come along

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def first_name(self) -> str:
        return self.signoff or self.name.split()[0]

    @property
    def bulk(self) -> bool:
        return self.kind in (NEWSLETTER, PROMOTION)


@dataclass(frozen=True)
class Style:
    """The templates of one sender's mail. `replies` answer a message in a thread."""

    subjects: tuple[str, ...]
    bodies: tuple[str, ...]
    replies: tuple[str, ...] = ()
    paired: bool = False  # the n-th subject goes with the n-th body
    html: bool = False  # sent as text and HTML, with links and images
    html_only: bool = False
    link_hosts: tuple[str, ...] = ()  # where its links point ("" = its own domain)


CAST = (
    Sender("Priya Raman", "priya.raman@quillpost.example", PERSONAL, True, "friend"),
    Sender("Tom Okafor", "tom@okafor-family.example", PERSONAL, True, "friend"),
    Sender("Jamie Morgan", "jamie.morgan@fernmail.example", PERSONAL, True, "family"),
    Sender("Helen Morgan", "helen.morgan@oldmail.example", PERSONAL, True, "family",
           signoff="Mum"),
    Sender("Lena Fischer", "lena.fischer@quillpost.example", PERSONAL, True, "neighbour",
           weight=0.6),
    Sender("Dana Whitfield", "dana.whitfield@larkspur.example", WORK, True, "colleague"),
    Sender("Marco Bellini", "marco.bellini@larkspur.example", WORK, True, "colleague"),
    Sender("Sofia Chen", "sofia.chen@larkspur.example", WORK, True, "colleague"),
    Sender("Ravi Patel", "ravi.patel@larkspur.example", WORK, True, "colleague"),
    Sender("Orbital Weekly", "news@orbitalweekly.example", NEWSLETTER, True, "space"),
    Sender("Riverside Cycling Club", "club@riversidecc.example", NEWSLETTER, True, "cycling"),
    Sender("Python Data Digest", "digest@pydata-digest.example", NEWSLETTER, True, "pydata"),
    Sender("Greenfield Allotment Society", "newsletter@greenfield-allotments.example",
           NEWSLETTER, True, "allotment", weight=0.7),
    Sender("StarBuzz Daily", "hello@starbuzz.example", NEWSLETTER, False, "gossip", weight=1.3),
    Sender("CoinRocket Insider", "insider@coinrocket.example", NEWSLETTER, False, "crypto"),
    Sender("Property Pulse", "updates@propertypulse.example", NEWSLETTER, False, "property",
           weight=0.7),
    Sender("Growth Hacks Weekly", "team@growthhacks.example", NEWSLETTER, False, "growth",
           weight=0.8),
    Sender("Spoke & Chain Bike Co-op", "members@spokeandchain.example", PROMOTION, True,
           "bikeshop", weight=0.6),
    Sender("Stride Shoes", "offers@strideshoes.example", PROMOTION, False, "shoes"),
    Sender("VoltMart", "deals@voltmart.example", PROMOTION, False, "electronics", weight=1.2),
    Sender("Wanderlust Travel", "deals@wanderlust-travel.example", PROMOTION, False, "travel",
           weight=0.8),
    Sender("FreshBox", "hello@freshbox.example", PROMOTION, False, "mealkit"),
    Sender("Home & Hearth", "sales@homeandhearth.example", PROMOTION, False, "homeware",
           weight=0.8),
    Sender("Northbank", "statements@northbank.example", TRANSACTIONAL, True, "bank"),
    Sender("ParcelPoint", "tracking@parcelpoint.example", TRANSACTIONAL, True, "parcel"),
    Sender("RailGo", "tickets@railgo.example", TRANSACTIONAL, True, "rail", weight=0.6),
    # New in the later weeks: a colleague who joined, a friend from the club, a
    # newsletter the reader subscribed to, and two shops that found the address.
    Sender("Nadia Hussain", "nadia.hussain@larkspur.example", WORK, True, "colleague",
           weight=0.6, since_day=22),
    Sender("Sam Whitaker", "sam.whitaker@quillpost.example", PERSONAL, True, "friend",
           weight=0.6, since_day=23),
    Sender("The Launch Pad", "hello@launchpad-news.example", NEWSLETTER, True, "launchpad",
           weight=0.8, since_day=21),
    Sender("Bloom & Grow Garden Centre", "offers@bloomandgrow.example", PROMOTION, False,
           "garden_promo", weight=0.8, since_day=22),
    Sender("LuxeWatch Outlet", "vip@luxewatch-outlet.example", PROMOTION, False, "watches",
           weight=0.8, since_day=24),
    Sender("Northbank Security", "alerts@northbank-secure.example", PHISHING, False,
           "bank_phish", forged=True),
    Sender("Fernmail Support", "support@fernmai1.example", PHISHING, False, "mailbox_phish",
           forged=True),
    Sender("ParcelPoint", "delivery@parcelpoint-tracking.example", PHISHING, False,
           "parcel_phish", forged=True),
    Sender("Dana Whitfield", "dana.whitfield@larkspur-mail.example", PHISHING, False,
           "boss_phish", weight=0.5, forged=True),
)

_SIGN = "\n\n{first}"
STYLES = {
    "friend": Style(
        subjects=("Free on {day}?", "Photos from {trip}", "Quick question",
                  "That {recommendation} I mentioned"),
        paired=True,
        bodies=(
            "Hi {reader},\n\nAre you free on {day}? I was thinking we could {plan}. "
            "Let me know what suits you." + _SIGN,
            "Hey {reader},\n\nFinally sorted the photos from {trip}. The one of you "
            "{photo_moment} is my favourite. I'll put the rest in the shared album tonight."
            "\n\nSpeak soon," + _SIGN,
            "Hi {reader},\n\nQuick one: {question} No rush, whenever you get a minute."
            "\n\nThanks," + _SIGN,
            "Hi {reader},\n\nYou have to try the {recommendation} I told you about, honestly "
            "the best thing I've found this year. Shall we {plan} on {day}?" + _SIGN),
        replies=(
            "Sounds great, {day} works for me. I'll bring {bring}." + _SIGN,
            "Ha, yes! Count me in. Shall we say {time}?" + _SIGN,
            "Thanks {reader}, that's really helpful. {question}" + _SIGN)),
    "family": Style(
        subjects=("Sunday lunch", "Grandma's birthday", "Did you see this?", "Call this week?",
                  "Plans for {holiday}"),
        bodies=(
            "Hi love,\n\n{family_news} Are you still coming over on {day}? "
            "{family_ask}\n\nLots of love," + _SIGN,
            "Hi {reader},\n\n{family_news} We should all get together for {holiday}. "
            "{family_ask}" + _SIGN,
            "Hiya,\n\nJust checking in. {family_news} Give me a ring when you're free, "
            "{day} evening is good for me." + _SIGN),
        replies=(
            "Lovely, see you then. {family_ask}" + _SIGN,
            "That's good news! {family_news}" + _SIGN)),
    "neighbour": Style(
        subjects=("Seedlings for you", "Water rota next week"),
        paired=True,
        bodies=(
            "Hi {reader},\n\nI've got spare {vegetable} seedlings if you want them for your "
            "plot. I'll leave them by the shed on {day}." + _SIGN,
            "Hello {reader},\n\nThe water rota for next week is up: you're down for {day}. "
            "The {vegetable} on plot 14 look wonderful, by the way." + _SIGN),
        replies=("Perfect, thank you! I'll swap you some {vegetable} later in the season."
                 + _SIGN,)),
    "colleague": Style(
        subjects=("{project}", "Quick question about the {project}", "{project}: next steps",
                  "Review needed: {project}"),
        bodies=(
            "Hi {reader},\n\n{work_update} Could you {work_ask} before {day}? "
            "{work_close}\n\nThanks," + _SIGN,
            "Hi all,\n\nA short update on {project}: {work_update} {work_close}\n\nBest," + _SIGN,
            "{reader},\n\n{work_update} I've put my notes in the team doc. "
            "Can you {work_ask}?" + _SIGN),
        replies=(
            "Thanks {reader}, {work_reply} I'll {work_ask} by {day}." + _SIGN,
            "Agreed. {work_update} {work_close}" + _SIGN,
            "Good catch. {work_reply}" + _SIGN)),
    "space": Style(
        subjects=("Orbital Weekly #{issue}: {space_headline}",
                  "This week in spaceflight: {space_headline}"),
        bodies=(
            "This week in spaceflight\n\n{space_headline}. {space_story}\n\n"
            "Also this week: {space_story2}\n\nLaunch calendar: {launch} on {day}.",),
        html=True),
    "cycling": Style(
        subjects=("Riverside CC: {ride} this {day}", "Club news: {club_news}",
                  "Riverside CC weekly: {ride}"),
        bodies=(
            "Hello riders,\n\nThis {day} we ride {ride}, meeting at {meet} at {time}. "
            "{club_news}.\n\nRemember lights and a spare tube. See you on the road!",),
        html=True),
    "pydata": Style(
        subjects=("Python Data Digest #{issue}: {py_headline}", "{py_headline}"),
        bodies=(
            "In this issue\n\n{py_headline}. {py_story}\n\nAlso worth reading: {py_story2}\n\n"
            "Tool of the week: {py_tool}.",),
        html=True),
    "allotment": Style(
        subjects=("Greenfield Allotments: {garden_news}", "Allotment society news, {month}"),
        bodies=(
            "Dear members,\n\n{garden_news}. {garden_tip}\n\nThe next work party is on {day} "
            "from {time}; tea and cake provided.",),
        html=True),
    "launchpad": Style(
        subjects=("The Launch Pad: {launch} this {day}", "Countdown: {space_headline}"),
        bodies=(
            "Hello space fans,\n\nComing up: {launch} on {day}, weather permitting. "
            "{space_story}\n\nOn the blog this week: {space_story2}",),
        html=True),
    "gossip": Style(
        subjects=("{celebrity} {gossip}!", "You won't believe what {celebrity} wore",
                  "StarBuzz: {celebrity} {gossip}"),
        bodies=(
            "Today's hottest story: {celebrity} {gossip}. Fans are saying {fan_reaction}.\n\n"
            "Plus: {celebrity2} spotted at {venue}. Click through for all the photos!",),
        html=True, html_only=True),
    "crypto": Style(
        subjects=("{coin} could {crypto_claim} this week", "Insider alert: {coin} is moving",
                  "Don't miss the next {coin} rally"),
        bodies=(
            "Our analysts believe {coin} could {crypto_claim}. {crypto_pitch}\n\n"
            "Upgrade to Insider Pro today for {price} a month and get every signal first.",),
        html=True),
    "property": Style(
        subjects=("House prices in {town} {property_move}", "Property Pulse: {town} market update"),
        bodies=(
            "Market update\n\nAverage asking prices in {town} {property_move} this month. "
            "{property_story}\n\nThinking of selling? Get a free valuation in minutes.",),
        html=True),
    "growth": Style(
        subjects=("{number} growth hacks to {growth_goal}", "How to {growth_goal} in 30 days"),
        bodies=(
            "Hey there,\n\nThis week: {number} tactics to {growth_goal}. {growth_story}\n\n"
            "Join our masterclass on {day} to learn the full playbook.",),
        html=True),
    "bikeshop": Style(
        subjects=("Members' offer: {percent}% off {bike_part}", "New in: {bike_part}",
                  "Workshop slots for {month}"),
        bodies=(
            "Hello member,\n\nThis month you get {percent}% off {bike_part} in the shop and "
            "online. Our workshop has slots for a {service} on {day}.\n\nRide safe,\n"
            "The Spoke & Chain team",),
        html=True),
    "shoes": Style(
        subjects=("{percent}% off {shoe} this weekend", "Last chance: {shoe} from {price}",
                  "New season {shoe} just landed"),
        bodies=(
            "Step into the season with {shoe} from just {price}. Use code {code} for an extra "
            "{percent}% off. Free returns on every order.",),
        html=True, html_only=True),
    "garden_promo": Style(
        subjects=("{percent}% off {garden_item} this weekend", "Winter garden sale: {garden_item}",
                  "Loyalty offer: {garden_item} from {price}"),
        bodies=(
            "Get your garden ready for {season}: {percent}% off {garden_item} in store and "
            "online. Use code {code} at checkout. Offer ends {day}.",),
        html=True, html_only=True),
    "watches": Style(
        subjects=("VIP access: luxury watches up to {percent}% off",
                  "Exclusive: {watch} from {price}",
                  "Final hours! {watch} at outlet prices"),
        bodies=(
            "As a VIP member you get early access: {watch} now only {price}. Limited stock, "
            "order within 24 hours to claim your discount with code {code}.",),
        html=True, html_only=True),
    "electronics": Style(
        subjects=("Deal of the day: {gadget} now {price}", "{percent}% off {gadget} ends {day}",
                  "Flash sale: {gadget}"),
        bodies=(
            "Today only: {gadget} for {price}. Stocks are limited, so be quick! "
            "Order by {time} for next-day delivery.",),
        html=True),
    "travel": Style(
        subjects=("Fly to {destination} from {price}", "Last-minute escape to {destination}",
                  "{destination} is calling"),
        bodies=(
            "Escape to {destination} this {season}: return flights from {price} and hotels "
            "with {percent}% off. Book by {day} to secure these fares.",),
        html=True),
    "mealkit": Style(
        subjects=("Your first box {percent}% off", "This week's menu: {meal}",
                  "We miss you! {percent}% off your next box"),
        bodies=(
            "Dinner sorted: this week's menu includes {meal} and {meal2}. Get {percent}% off "
            "your next box with code {code}.",),
        html=True),
    "homeware": Style(
        subjects=("{home_item} sale ends {day}", "Up to {percent}% off {home_item}",
                  "Refresh your home for {season}"),
        bodies=(
            "Make your home cosy for {season}: up to {percent}% off {home_item} and "
            "{home_item2}. Free delivery on orders over {price}.",),
        html=True),
    "bank": Style(
        subjects=("Your {month} statement is ready", "Payment of {price} to {merchant}"),
        paired=True,
        bodies=(
            "Dear {reader_full},\n\nYour {month} statement for the account ending {digits} is "
            "ready to view in online banking. We will never ask for your password by email."
            "\n\nNorthbank Customer Service",
            "Dear {reader_full},\n\nA payment of {price} to {merchant} was made from your "
            "account ending {digits} on {day}. If you recognise it, there's nothing to do."
            "\n\nNorthbank"),
        html=True),
    "parcel": Style(
        subjects=("Your parcel from {shop} arrives {day}", "Your ParcelPoint delivery on {day}"),
        bodies=(
            "Hi {reader},\n\nYour parcel from {shop} (tracking {tracking}) is on its way and "
            "will arrive on {day} between {time} and {time2}.\n\nParcelPoint",),
        html=True),
    "rail": Style(
        subjects=("Your e-ticket to {town}", "Booking confirmed: {town}, {day}"),
        bodies=(
            "Hi {reader},\n\nYour booking is confirmed: {town} on {day}, departing {time}. "
            "Booking reference {code}. Show the attached QR code at the gate.\n\nRailGo",),
        html=True),
    "bank_phish": Style(
        subjects=("Unusual sign-in to your account", "Action required: verify your identity",
                  "Your account has been limited"),
        bodies=(
            "Dear Customer,\n\nWe detected an unusual sign-in to your Northbank account from "
            "{country}. To avoid suspension, verify your identity within 24 hours: {link}"
            "\n\nNorthbank Security Team",),
        html=True, link_hosts=("bit.ly", "cutt.ly")),
    "mailbox_phish": Style(
        subjects=("Your mailbox is almost full", "Final notice: mailbox storage exceeded",
                  "Password expiry notice"),
        bodies=(
            "Your Fernmail mailbox has reached {percent}% of its storage. Incoming messages "
            "will be rejected from {day}. Sign in to keep your mail: {link}\n\nFernmail Support",),
        html=True, html_only=True, link_hosts=("203.0.113.45", "198.51.100.7")),
    "parcel_phish": Style(
        subjects=("Delivery failed: action needed", "Your parcel is waiting: pay {price} fee",
                  "We could not deliver your parcel"),
        bodies=(
            "We tried to deliver your parcel today but no one was home. To rebook, pay the "
            "{price} redelivery fee here: {link}\nUnclaimed parcels are returned after 48 hours.",),
        html=True, link_hosts=("tinyurl.com", "t.ly")),
    "boss_phish": Style(
        subjects=("Urgent request", "Are you at your desk?", "Quick favour, confidential"),
        bodies=(
            "Hi {reader},\n\nI'm in meetings all day and need you to buy {number} gift cards "
            "for a client, {price} each. Keep this between us for now. Reply with the codes "
            "as soon as you have them.\n\nDana\nSent from my phone",)),
}

# What the reader writes, to friends and family and to colleagues: the openers of
# threads the cast answers, and the reader's answers in threads.
READER_STYLES = {
    PERSONAL: Style(
        subjects=("Catching up", "{day}?", "Plans for {holiday}", "Long time no see"),
        bodies=(
            "Hi {first},\n\nHope you're well! Are you free on {day}? I thought we could "
            "{plan}.\n\n{reader}",
            "Hi {first},\n\nQuick question: {question} Let me know.\n\nThanks,\n{reader}"),
        replies=("Sounds good! See you {day}.\n\n{reader}",
                 "Thanks {first}, lovely to hear from you. I'll bring {bring}.\n\n{reader}")),
    WORK: Style(
        subjects=("Question about the {project}", "{project}", "Notes on the {project}"),
        bodies=(
            "Hi {first},\n\n{work_update} Could you {work_ask} when you have a moment?"
            "\n\nThanks,\n{reader}",),
        replies=("Thanks {first}, {work_reply} {work_close}\n\n{reader}",)),
}
