"""Mail written for the persona tests: for each persona of the built-in audience, one
message on its interests that it should pass and one on its disinterests that it should
not; and appeals (fund-raising, betting, a fashion sale) that most personas should not
pass. Written here, not taken from any real mailbox; none copies a persona's examples."""

from __future__ import annotations

# persona -> (sender, subject, body)
ON_TOPIC = {
    "CEO": ("Boardroom Brief <brief@boardroombrief.example>",
            "Scenario planning for a recession: what boards are asking now",
            "Chief executives tell us their boards want three downside scenarios, not one "
            "forecast. We show how to stress-test supply chains, protect cash and lead a "
            "leadership team through a crisis, with a continuity checklist for the next quarter."),
    "CFO": ("Finance Leader <letters@financeleader.example>",
            "Cutting software spend: auditing licences before renewal",
            "Most companies pay for a third more software licences than they use. Our guide "
            "shows finance teams how to audit seats, renegotiate vendor contracts and improve "
            "cash flow forecasting before the year-end renewals."),
    "IT buyer": ("Secure Ops Review <reviews@secureops.example>",
                 "Independent test: ransomware protection for business laptops",
                 "We attacked forty business laptops with real ransomware samples to compare "
                 "endpoint security suites. Results, prices per seat and how each works with "
                 "single sign-on and multi-factor authentication."),
    "marketing manager": ("Inbox Insights <weekly@inboxinsights.example>",
                          "Subject line tests that lifted open rates by 18%",
                          "We ran forty subject line tests across three email campaigns and "
                          "measured opens, clicks and attribution. What worked, what hurt "
                          "deliverability, and the copywriting patterns competitors use."),
    "software developer": ("Changelog Digest <digest@changelogdigest.example>",
                           "Release notes: a faster type checker and a new test runner",
                           "This week's open source releases: the type checker now handles "
                           "recursive generics twice as fast, the test runner adds parallel "
                           "fixtures, and the database driver fixes a connection pool bug."),
    "small-shop owner": ("High Street Trader <news@highstreettrader.example>",
                         "Card fees are going up: how small shops can pay less",
                         "Card payment fees for small retailers rise next month. We compared "
                         "point of sale systems, explain the new business rates relief and "
                         "how to sell online alongside your shop without extra stock costs."),
    "parent of young children": ("Little Steps <hello@littlesteps.example>",
                                 "Toddler bedtime battles, and ten rainy-day activities",
                                 "A sleep researcher explains why toddlers resist bedtime and "
                                 "what helps. Plus ten family activities for the school "
                                 "holidays and three quick weeknight meals children will eat."),
    "university student": ("Campus Careers <careers@campuscareers.example>",
                           "Summer internships open now, and a free CV check",
                           "Graduate employers have opened their summer internship "
                           "applications. Book a free CV check, see the deadlines and grab "
                           "the student discount on laptops before exams start."),
    "retiree": ("Garden and Heritage <letters@gardenheritage.example>",
                "Growing winter vegetables, and a guided walk through the old town",
                "It is time to sow broad beans and plant garlic for next summer. Our local "
                "historian leads a heritage walk through the old town, and we compare "
                "savings rates for your pension pot."),
    "frequent traveller": ("Points and Miles <alerts@pointsmiles.example>",
                           "Double airline points on city breaks this spring",
                           "Collect double loyalty points on flights and hotels in six cities. "
                           "Plus which airport lounges reopened, how to use upgrades, and what "
                           "to do when your flight is cancelled."),
    "gamer": ("Patch Notes Weekly <news@patchnotes.example>",
              "Patch notes: the new season, balance changes and a graphics card deal",
              "The new season brings three maps, weapon balance changes and ranked rewards. "
              "We benchmarked the latest graphics cards in five games and picked two indie "
              "games from early access worth playing."),
    "sports fan": ("Matchday Live <news@matchdaylive.example>",
                   "Match report, transfer news and your fantasy football picks",
                   "A late winner settled the derby on Saturday. The club confirmed two "
                   "summer transfers, season tickets go on sale on Monday, and our fantasy "
                   "football tips for the weekend's fixtures."),
    "home cook": ("Kitchen Table <recipes@kitchentable.example>",
                  "Three spring recipes from the farmers' market",
                  "Asparagus, new potatoes and rhubarb are in season. This week: a tart with "
                  "homemade pastry, a slow braise from northern Italy and a guide to the "
                  "kitchen knives worth buying."),
    "political activist": ("Housing Action Network <action@housingaction.example>",
                           "Renters' rights bill: the vote is next week",
                           "Parliament votes on the renters' rights bill next week. Sign the "
                           "petition, join volunteers at the local elections and read our "
                           "policy analysis of the climate and housing amendments."),
    "private investor": ("Yield Watch <markets@yieldwatch.example>",
                         "Earnings season: bank results and what bond yields say",
                         "Banks report earnings this week as bond yields fall ahead of the "
                         "central bank's rate decision. We look at dividend income, index fund "
                         "allocation and tax-efficient investing for the new tax year."),
    "health-conscious reader": ("Evidence Health <letters@evidencehealth.example>",
                                "What the research says about sleep, stress and running",
                                "New studies on sleep and stress, a twelve-week running and "
                                "strength training plan, and what the evidence really says "
                                "about healthy eating and nutrition."),
    "teacher": ("Science Classroom <resources@scienceclassroom.example>",
                "Free lesson plans: electricity practicals for Year 8",
                "Five ready-to-teach science lesson plans with practical worksheets and risk "
                "assessments. Plus what the new education policy means for teacher workload "
                "and ideas for a science outreach trip."),
    "nurse": ("Clinical Update <update@clinicalupdate.example>",
              "New clinical guidance on wound care, and your CPD hours",
              "Updated nursing guidance on wound care and pressure ulcers, with a short "
              "learning module that counts towards your continuing professional development. "
              "The union's view on the new shift rota and nurses' pay."),
}

OFF_TOPIC = {
    "CEO": ("Growth Hacks Daily <tips@growthhacks.example>",
            "27 productivity tricks and a free trial of our app",
            "Try these 27 growth hacking tips to double your productivity. Start a free "
            "software trial today and nominate yourself for our startup award."),
    "CFO": ("Spa Escapes <offers@spaescapes.example>",
            "Luxury spa weekends and team-building days",
            "Treat your team to a luxury spa weekend or a team-building day with corporate "
            "gifts included. Book this month for a free upgrade."),
    "IT buyer": ("Gadget Bargains <deals@gadgetbargains.example>",
                 "Smartwatch and headphone deals for you",
                 "This weekend's consumer gadget deals: smartwatches, wireless headphones and "
                 "a smart speaker bundle, plus tips to grow your social media following."),
    "marketing manager": ("Server Rack Pro <sales@serverrack.example>",
                          "Rack servers and firewalls for your data centre",
                          "Upgrade your server hardware and network security with our new rack "
                          "servers and firewalls, plus a guide to this year's tax updates."),
    "software developer": ("Runway Outlet <sale@runwayoutlet.example>",
                           "Fashion sale: dresses and shoes from 15",
                           "Discount fashion sale: dresses, sandals and heels from 15. Plus a "
                           "webinar for sales executives on closing enterprise deals."),
    "small-shop owner": ("Crypto Rocket <vip@cryptorocket.example>",
                         "Trade crypto with 100x leverage",
                         "Start cryptocurrency trading today with 100x leverage and a bonus "
                         "on your first deposit. Enterprise clients get a dedicated manager."),
    "parent of young children": ("Club Midnight <events@clubmidnight.example>",
                                 "Saturday night: three DJs until 4am",
                                 "Our nightclub's biggest late-night event of the year, with "
                                 "three DJs, VIP tables and a luxury car giveaway."),
    "university student": ("Secure Mortgages <advice@securemortgages.example>",
                           "Remortgage now and plan your pension",
                           "Fixed mortgage rates have fallen. Remortgage your home, plan your "
                           "pension and see our home and garden improvement loans."),
    "retiree": ("Arena Clash <news@arenaclash.example>",
                "Battle pass season 9 and the festival line-up",
                "Season 9 of the battle pass is live with new skins. Plus tickets for the "
                "summer music festival and the latest technology start-up funding news."),
    "frequent traveller": ("DIY Depot <offers@diydepot.example>",
                           "Paint, tiles and baby products on offer",
                           "Home improvement offers on paint and tiles, supermarket grocery "
                           "vouchers and 20% off baby products this week."),
    "gamer": ("Bloom Home <offers@bloomhome.example>",
              "Spring gardening and home décor ideas",
              "Plant up your borders, choose cushions for spring and read our personal "
              "finance advice and parenting tips for busy families."),
    "sports fan": ("Opera House <boxoffice@operahouse.example>",
                   "This season at the opera, and a knitting class",
                   "Our opera and classical music season opens with three new productions. "
                   "Plus a cookery demonstration and a knitting and crafts workshop."),
    "home cook": ("BurgerBlitz <deals@burgerblitz.example>",
                  "Double burger meal and an esports night",
                  "A double burger meal for 4.99, car insurance quotes for drivers under 25, "
                  "and a video games esports tournament on Friday."),
    "political activist": ("Star Gossip <buzz@stargossip.example>",
                           "Celebrity wedding photos and your horoscope",
                           "Exclusive celebrity gossip from the weekend's wedding, a luxury "
                           "shopping guide and your weekly horoscope."),
    "private investor": ("Moon Coin Club <vip@mooncoin.example>",
                         "This coin will 50x before Friday",
                         "Get rich quick with our crypto scheme, plus celebrity news and 30% "
                         "off beauty and fashion."),
    "health-conscious reader": ("Sweet Treats <offers@sweettreats.example>",
                                "Chocolate, wine and a free bet",
                                "A box of sweets and sugary snacks, a case of wine and spirits "
                                "at half price, and a free bet on the big match."),
    "teacher": ("Enterprise Sales Cloud <sales@salescloud.example>",
                "Corporate sales software demo and a luxury holiday draw",
                "Book a demo of our corporate sales software and enter the draw for a luxury "
                "holiday. Sports betting partners get boosted odds."),
    "nurse": ("Growth Marketing Weekly <news@growthweekly.example>",
              "Marketing newsletter: funnels, and a video game sale",
              "Business and marketing news on funnels and brand campaigns, plus a video "
              "games sale and fashion sales from our partners."),
}

APPEALS = {
    "fund-raising": ("Hope for Rivers <appeal@hopeforrivers.example>",
                     "Will you give 10 today to save our rivers?",
                     "Our rivers are dying. Your gift of 10 today will fund volunteers who "
                     "clean riverbanks and rescue wildlife. Every donation is matched until "
                     "midnight. Please donate now."),
    "charity appeal": ("Children First Fund <giving@childrenfirst.example>",
                       "A winter appeal: help a family stay warm",
                       "This winter thousands of families cannot heat their homes. A monthly "
                       "gift of 5 buys a warm coat and a hot meal. Please give what you can "
                       "and set up a regular donation."),
    "betting": ("LuckySpin <promo@luckyspin.example>",
                "Free spins and a 50 bonus this weekend",
                "Deposit 10 and get 50 free spins and a 50 bonus on our casino slots. New "
                "customers only; terms apply."),
}
