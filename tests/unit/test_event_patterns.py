"""Labelling patterns (model/events/patterns.py) on real headlines of the stream and Reuters 2007 corpora.

Every headline below is quoted from /work/shared/datasets/stream/financial_headlines_stream.csv or
reuters_business_2007.csv unless a test says it is made up. Each case lists the events as
(type, polarity, subject, source); the span tests check text[start:end] against every subject and source.
"""

from __future__ import annotations

import pytest

from model.events.patterns import is_company_name, is_roundup, leading_company, match_events, strip_prefix
from model.events.taxonomy import EVENT_TYPES, FinancialEvent

Expected = tuple[str, int, "str | None", "str | None"]

CASES: list[tuple[str, list[Expected]]] = [
    # analyst actions, Benzinga formats
    ("Barclays Maintains Overweight on Agilent Technologies, Raises Price Target to $83",
     [("rating_maintain", 0, "Agilent Technologies", "Barclays"),
      ("price_target_raise", 1, "Agilent Technologies", "Barclays")]),
    ("Jefferies Upgrades NVIDIA to Buy, Raises PT to $30.00",
     [("rating_upgrade", 1, "NVIDIA", "Jefferies"), ("price_target_raise", 1, "NVIDIA", "Jefferies")]),
    ("B of A Securities Downgrades Tesla to Underperform, Lowers Price Target to $485",
     [("rating_downgrade", -1, "Tesla", "B of A Securities"), ("price_target_cut", -1, "Tesla", "B of A Securities")]),
    ("Goldman Sachs Initiates Coverage On Advance Auto Parts with Sell Rating, Announces $151 Price Target",
     [("rating_initiate", -1, "Advance Auto Parts", "Goldman Sachs")]),
    ("Cantor Fitzgerald Initiates Coverage On ACADIA Pharmaceuticals with Overweight Rating, "
     "Announces $25 Price Target",
     [("rating_initiate", 1, "ACADIA Pharmaceuticals", "Cantor Fitzgerald")]),
    ("CIBC Initiates Coverage on Barrick Gold at Sector Perform",
     [("rating_initiate", 0, "Barrick Gold", "CIBC")]),
    ("B. Riley & Co. Upgrades NVIDIA Corporation to Buy, Raises PT to $21.00",
     [("rating_upgrade", 1, "NVIDIA Corporation", "B. Riley & Co."),
      ("price_target_raise", 1, "NVIDIA Corporation", "B. Riley & Co.")]),
    ("Bank of America Reiterates Buy, $45 PT on Agilent Technologies",
     [("rating_maintain", 0, "Agilent Technologies", "Bank of America")]),
    ("Citigroup Maintains Nvidia at Hold, Raises PT from $14 to $15",
     [("rating_maintain", 0, "Nvidia", "Citigroup"), ("price_target_raise", 1, "Nvidia", "Citigroup")]),
    ("Goldman Sachs Raises PT On Advance Auto Parts To $70",
     [("price_target_raise", 1, "Advance Auto Parts", "Goldman Sachs")]),
    ("Nvidia Downgraded to Underperform from Market Perform at Wells Fargo",
     [("rating_downgrade", -1, "Nvidia", "Wells Fargo")]),
    ("UPDATE: Raymond James Downgrades Aaron's, Inc. to Market Perform, Removes $30.00 PT",
     [("rating_downgrade", -1, "Aaron's", "Raymond James")]),
    ("Aaron's Upgraded to Long-term Buy (AAN)", [("rating_upgrade", 1, "Aaron's", None)]),
    # analyst actions, Reuters style
    ("UPDATE 1-RESEARCH ALERT-Deutsche Bank raises Apple price target",
     [("price_target_raise", 1, "Apple", "Deutsche Bank")]),
    ("UPDATE 1-RESEARCH ALERT-JP Morgan cuts Safeco to underweight",
     [("rating_downgrade", -1, "Safeco", "JP Morgan")]),
    ("UPDATE 1-RESEARCH ALERT-Stifel upgrades Amazon.com to buy", [("rating_upgrade", 1, "Amazon.com", "Stifel")]),
    ("Navteq upgraded to Buy at Janco- tgt raised to $50 from $40",
     [("rating_upgrade", 1, "Navteq", "Janco"), ("price_target_raise", 1, "Navteq", "Janco")]),
    ("Moody's cuts WCI Communities rating deeper into junk", [("rating_downgrade", -1, "WCI Communities", "Moody's")]),
    # earnings
    ("McDonald's profit misses estimates , shares drop 4%", [("earnings", -1, "McDonald's", None),
                                                             ("share_move", -1, "McDonald's", None)]),
    ("Caterpillar profit tops estimates; raises outlook",
     [("earnings", 1, "Caterpillar", None), ("guidance", 1, "Caterpillar", None)]),
    ("Cigna posts lower quarterly profit", [("earnings", -1, "Cigna", None)]),
    ("Kodak swings to profit but shares fall", [("earnings", 1, "Kodak", None), ("share_move", -1, "Kodak", None)]),
    ("Napster posts narrower quarterly loss", [("earnings", 1, "Napster", None)]),
    ("RPT-Melco PBL Entertainment posts wider second-quarter loss",
     [("earnings", -1, "Melco PBL Entertainment", None)]),
    ("Nomura Q4 profit falls 74 percent on lack of deals", [("earnings", -1, "Nomura", None)]),
    ("Caterpillar 4th-qtr net rises", [("earnings", 1, "Caterpillar", None)]),
    ("Quiksilver meets Street with adjusted earnings", [("earnings", 0, "Quiksilver", None)]),
    ("Expeditors Intl misses by $0.03", [("earnings", -1, "Expeditors Intl", None)]),
    ("Emerson Underperforms Estimates", [("earnings", -1, "Emerson", None)]),
    ("Facebook posts record profit despite year of scandal", [("earnings", 1, "Facebook", None)]),
    ("Retailer Kesko's Q1 beats forecasts, shares at record", [("earnings", 1, "Kesko", None)]),
    ("Australia's Tattersalls says H1 profit up 54 pct", [("earnings", 1, "Tattersalls", None)]),
    # guidance
    ("UPDATE 1-Herman Miller raises Q2 profit outlook", [("guidance", 1, "Herman Miller", None)]),
    ("Escada cuts outlook on weak fall range, revamp", [("guidance", -1, "Escada", None)]),
    ("Zhone sees Q3 revenue below analysts' view", [("guidance", -1, "Zhone", None)]),
    ("Gap sees 2020 profit above estimates , flags USD 100 mln virus hit to sales", [("guidance", 1, "Gap", None)]),
    ("EADS confirms 2007 outlook ahead of AGM", [("guidance", 0, "EADS", None)]),
    ("Applied Optoelectronics Shares Soar On Raised Guidance", [("guidance", 1, "Applied Optoelectronics", None),
                                                              ("share_move", 1, "Applied Optoelectronics", None)]),
    ("Mentor Graphics warns of loss in third quarter", [("guidance", -1, "Mentor Graphics", None)]),
    # clinical trials
    ("DepoMed announces results of Phase 3 clinical trial for Gabapentin GR ; results did not demonstrate "
     "statistically significant efficacy", [("clinical_trial", -1, "DepoMed", None)]),
    ("UPDATE 1-Adventrx cancer injection study fails to meet main goal", [("clinical_trial", -1, "Adventrx", None)]),
    ("AbbVie Reports Fourth Pivotal Phase 3 Psoriasis Study For Risankizumab Met All Primary Endpoints",
     [("clinical_trial", 1, "AbbVie", None)]),
    # regulatory
    ("US FDA rejects Merck's Vioxx successor", [("regulatory", -1, "Merck", "US FDA")]),
    ("FDA approves Astrazeneca's once-daily Seroquel tablets for the treatment of schizophrenia",
     [("regulatory", 1, "Astrazeneca", "FDA")]),
    ("Wockhardt gets FDA nod for diuretic injection", [("regulatory", 1, "Wockhardt", None)]),
    ("EU clears Enel's buy of Romanian power distributor", [("regulatory", 1, "Enel", "EU")]),
    # bankruptcy
    ("Wirecard files for insolvency amid German accounting scandal", [("bankruptcy", -1, "Wirecard", None)]),
    ("UPDATE 1-Mortgage Lenders Network USA files for Chapter 11",
     [("bankruptcy", -1, "Mortgage Lenders Network USA", None)]),
    ("Neiman Marcus skips debt payment as potential bankruptcy looms", [("bankruptcy", -1, "Neiman Marcus", None)]),
    # legal
    ("Google fined £3.8bn by EU over Android antitrust violations", [("legal", -1, "Google", None)]),
    ("Massachusetts sues Uber , Lyft over driver status as contractors", [("legal", -1, "Uber", "Massachusetts")]),
    ("EU antitrust regulators to investigate Amazon over merchant data",
     [("legal", -1, "Amazon", "EU antitrust regulators")]),
    ("Citigroup to pay USD 100 million to settle U . S . Libor rigging probe", [("legal", -1, "Citigroup", None)]),
    ("Izard Nobel LLP Announces Class Action Lawsuit Against Flotek Industries, Inc.",
     [("legal", -1, "Flotek Industries", "Izard Nobel LLP")]),
    ("Lyft is sued by investors over IPO", [("legal", -1, "Lyft", None)]),
    # incidents
    ("Fiat Chrysler recalls 5 . 3 million vehicles for cruise control defect",
     [("incident", -1, "Fiat Chrysler", None)]),
    ("Maytag recalls 2.3 mln dishwashers for fire hazard", [("incident", -1, "Maytag", None)]),
    # layoffs
    ("Tesco to shed up to 1,700 jobs in new management shake-up", [("layoffs", -1, "Tesco", None)]),
    ("Carpetright to close 92 outlets, shedding hundreds of jobs", [("layoffs", -1, "Carpetright", None)]),
    ("Tesla cuts 9 percent of workforce in search for profit", [("layoffs", -1, "Tesla", None)]),
    # executive departures
    ("Royal Bank of Scotland chief executive Ross McEwan resigns",
     [("executive_departure", -1, "Royal Bank of Scotland", None)]),
    ("Nissan top executive Munoz resigns amid broadened Ghosn probe", [("executive_departure", -1, "Nissan", None)]),
    ("Alibaba's Jack Ma resigns from SoftBank board", [("executive_departure", -1, "Alibaba", None)]),
    ("Bank of Hawaii says CFO to leave", [("executive_departure", -1, "Bank of Hawaii", None)]),
    # dividends
    ("Macy's suspends quarterly dividend , withdraws 2020 forecast",
     [("guidance", -1, "Macy's", None), ("dividend", -1, "Macy's", None)]),
    ("Danaher raises quarterly dividend", [("dividend", 1, "Danaher", None)]),
    ("Lamar Advertising announces special dividend, share buyback", [("dividend", 1, "Lamar Advertising", None)]),
    # mergers and acquisitions
    ("Payless ShoeSource to buy Collective International",
     [("merger_acquisition", 0, "Payless ShoeSource", None),
      ("merger_acquisition", 1, "Collective International", None)]),
    ("Agilent Technologies To Acquire ACEA Biosciences; Financial Terms Not Disclosed",
     [("merger_acquisition", 0, "Agilent Technologies", None), ("merger_acquisition", 1, "ACEA Biosciences", None)]),
    ("EDO Corp to be acquired by ITT for $56/share",
     [("merger_acquisition", 1, "EDO Corp", None), ("merger_acquisition", 0, "ITT", None)]),
    ("Hanover Compressor, Universal Compression agree to merge",
     [("merger_acquisition", 0, "Hanover Compressor", None), ("merger_acquisition", 0, "Universal Compression", None)]),
    ("Lufthansa to buy stake in JetBlue",
     [("merger_acquisition", 0, "Lufthansa", None), ("merger_acquisition", 1, "JetBlue", None)]),
    ("Uber to buy Chile's Cornershop as it sets sights on delivering groceries",
     [("merger_acquisition", 0, "Uber", None), ("merger_acquisition", 1, "Cornershop", None)]),
]

# Phrasings added for recall (issue #25's judged tune split): one real headline per phrasing.
CASES += [
    # takeovers: a trade before the target's name, talks, a buyer that "says" it buys, an unnamed target
    ("Yahoo to buy Web e-mail maker Zimbra for $350 mln",
     [("merger_acquisition", 0, "Yahoo", None), ("merger_acquisition", 1, "Zimbra", None)]),
    ("KBC buys majority stake in Russian bank Absolut",
     [("merger_acquisition", 0, "KBC", None), ("merger_acquisition", 1, "Absolut", None)]),
    ("Amazon in advanced talks to buy self-driving startup Zoox : WSJ",
     [("merger_acquisition", 0, "Amazon", None), ("merger_acquisition", 1, "Zoox", None)]),
    ("Apollo Global nears deal to buy Arconic for more than USD 10 billion : WSJ",
     [("merger_acquisition", 0, "Apollo Global", None), ("merger_acquisition", 1, "Arconic", None)]),
    ("Weir says to buy SPM Flow Control for $653 mln",
     [("merger_acquisition", 0, "Weir", None), ("merger_acquisition", 1, "SPM Flow Control", None)]),
    ("Lone Star extends tender offer to acquire Accredited Home",
     [("merger_acquisition", 0, "Lone Star", None), ("merger_acquisition", 1, "Accredited Home", None)]),
    ("Cleveland-Cliffs to buy metallurgical coal producer", [("merger_acquisition", 0, "Cleveland-Cliffs", None)]),
    ("Boston Beer to buy Diageo brewery in Pa. for $55 mln", [("merger_acquisition", 0, "Boston Beer", None)]),
    ("Bayer to sell digital farming business to clear way for Monsanto deal",
     [("merger_acquisition", 0, "Bayer", None)]),
    # legal: watchdogs, probes opened, suits filed, cases won, payments that end a suit
    ("Dutch telecoms regulator fines KPN 1.6 mln euros", [("legal", -1, "KPN", "Dutch telecoms regulator")]),
    ("Irish regulator opens third privacy probe into Apple", [("legal", -1, "Apple", "Irish regulator")]),
    ("UPDATE 1-CDC files second lawsuit against Mgame", [("legal", -1, "Mgame", "CDC")]),
    ("Canadian regulator to fine Glencore-controlled miner over Congo - WSJ",
     [("legal", -1, "Glencore", "Canadian regulator")]),
    ("Medtronic says wins appeal in patent dispute with Biomet", [("legal", 1, "Medtronic", None)]),
    ("Google to Pay $13M to End 2010 Privacy Lawsuit", [("legal", -1, "Google", None)]),
    ("UPDATE 1-HSN to pay $875,000 penalty related to recall", [("legal", -1, "HSN", None)]),
    # a probe of a deal is a merger review, a probe of an accident an incident
    ("EU antitrust regulators to probe Boeing , Embraer deal",
     [("regulatory", 0, "Boeing", "EU antitrust regulators")]),
    ("UPDATE 1-U.S. begins probe of Valero Texas refinery fire", [("incident", -1, "Valero", None)]),
    # regulatory decisions
    ("US FDA staff questions Corin hip device study", [("regulatory", -1, "Corin", "US FDA staff")]),
    ("EU Commission Approves Abbvie's Acquisition Of Allergan, Subject To Conditions",
     [("regulatory", 1, "Abbvie", "EU Commission")]),
    ("ATS Medical gets FDA OK for heart valve repair ring", [("regulatory", 1, "ATS Medical", None)]),
    # bankruptcy: talks, the brink, an exit (+1)
    ("Neiman Marcus in bankruptcy talks with lenders : Bloomberg Law", [("bankruptcy", -1, "Neiman Marcus", None)]),
    ("Flybe on brink of collapse as coronavirus outbreak takes toll", [("bankruptcy", -1, "Flybe", None)]),
    ("UK retailer Debenhams enters administration again", [("bankruptcy", -1, "Debenhams", None)]),
    ("Delta exits bankruptcy after 19-month restructuring", [("bankruptcy", 1, "Delta", None)]),
    # trial read-outs
    ("Pain Therapeutics says opioid painkiller trial meets main goal",
     [("clinical_trial", 1, "Pain Therapeutics", None)]),
    ("UPDATE 1-Baxter flu vaccine shows promise in trial", [("clinical_trial", 1, "Baxter", None)]),
    ("ImClone says Erbitux fails in lung cancer trial", [("clinical_trial", -1, "ImClone", None)]),
    ("Abbvie's RINVOQ Meets Primary And All Ranked Secondary Endpoints In Phase 3 Study In Psoriatic Arthritis",
     [("clinical_trial", 1, "Abbvie", None)]),
    ("Biogen, PDL say daclizumab trial meets main goal",
     [("clinical_trial", 1, "Biogen", None), ("clinical_trial", 1, "PDL", None)]),
    # departures announced by the company, special dividends, a nationality and trade before the name
    ("Hancock Fabrics Announces Resignation of CFO", [("executive_departure", -1, "Hancock Fabrics", None)]),
    ("Energy Partners announces departure of Tim Woodall as Chief Financial Officer",
     [("executive_departure", -1, "Energy Partners", None)]),
    ("Heartland Express declares special dividends of $2.00 per share", [("dividend", 1, "Heartland Express", None)]),
    ("Aaron's Directors Raise Dividend by 15.4% to $0.015", [("dividend", 1, "Aaron's", None)]),
    ("French bank SocGen to cut 1 , 600 jobs in drive to lift profits", [("layoffs", -1, "SocGen", None)]),
    # guidance: withdrawn, upside / downside, in line, the end of a range, on track, set, can't forecast
    ("Harley-Davidson withdraws outlook due to coronavirus disruption", [("guidance", -1, "Harley-Davidson", None)]),
    ("Parker-Hannifin beats by $0.09; issues upside FY07 guidance",
     [("earnings", 1, "Parker-Hannifin", None), ("guidance", 1, "Parker-Hannifin", None)]),
    ("Bemis misses by $0.05; issues downside guidance for Q3 and Y07",
     [("earnings", -1, "Bemis", None), ("guidance", -1, "Bemis", None)]),
    ("Chubb beats by $0.23; guides FY07 EPS in-line", [("earnings", 1, "Chubb", None), ("guidance", 0, "Chubb", None)]),
    ("Terex beats by $0.12; guides to high end of prior range",
     [("earnings", 1, "Terex", None), ("guidance", 1, "Terex", None)]),
    ("Anglo American's second-quarter output rises 2% , on track to hit 2019 targets",
     [("guidance", 0, "Anglo American", None)]),
    ("FLIR Systems Q4 profit rises, provides 2007 outlook",
     [("earnings", 1, "FLIR Systems", None), ("guidance", 0, "FLIR Systems", None)]),
    ("UPDATE 1-TUI says can't forecast 2007 tourism results", [("guidance", -1, "TUI", None)]),
    # a beat and a miss in one quarter (or one outlook) are mixed: 0
    ("AVX Corp misses by $0.01, beats on revs", [("earnings", 0, "AVX Corp", None)]),
    ("CalAmp reports EPS in-line, misses on revs; guides Q3 EPS above consensus, revs below consensus",
     [("earnings", -1, "CalAmp", None), ("guidance", 0, "CalAmp", None)]),
    # a broker's own quarter is not an analyst headline; "Guide" in a name is no guidance
    ("JPMorgan beats profit estimates , says consumer remains strong", [("earnings", 1, "JPMorgan", None)]),
    ("Gemstar-TV Guide reports EPS in-line, beats on revs", [("earnings", 1, "Gemstar-TV Guide", None)]),
    # analyst actions with no rating stated
    ("UPDATE 1-RESEARCH ALERT-JP Morgan initiates ShoreTel", [("rating_initiate", 0, "ShoreTel", "JP Morgan")]),
    ("UPDATE: Morgan Stanley Reiterates on Agilent Technologies",
     [("rating_maintain", 0, "Agilent Technologies", "Morgan Stanley")]),
    ("UPDATE1-RESEARCH ALERT-JP Morgan upgrades Group 1 Automotive",
     [("rating_upgrade", 1, "Group 1 Automotive", "JP Morgan")]),
]

# Free-text phrasings of the 2007 wire and Benzinga movers: one real headline per phrasing.
CASES += [
    # a trade descriptor before the company ("Luxury group Hermes"); profit warnings on a period
    ("UPDATE 1-Luxury group Hermes warns on profits, cites Japan", [("guidance", -1, "Hermes", None)]),
    ("Nokia shares fall as Motorola warns on Q4", [("share_move", -1, "Nokia", None)]),  # Motorola does not lead
    ("Motorola warns, Nokia shares fall", []),  # made up: another company's shares
    ("Office supply woes deepen as Newell warns on fourth quarter", []),
    ("Off-licence firm Oddbins warns of job losses", [("layoffs", -1, "Oddbins", None)]),  # no profit warning
    ("Daimler warns of difficult second quarter , hikes risk provisions", [("guidance", -1, "Daimler", None)]),
    ("Staffing firm Randstad in talks to buy Vedior",
     [("merger_acquisition", 0, "Randstad", None), ("merger_acquisition", 1, "Vedior", None)]),
    ("Mortgage lender HomeBanc files for bankruptcy", [("bankruptcy", -1, "HomeBanc", None)]),
    ("Citigroup to buy ABN AMRO Mortgage Group",
     [("merger_acquisition", 0, "Citigroup", None), ("merger_acquisition", 1, "ABN AMRO Mortgage Group", None)]),
    # earnings: profit against a year-earlier loss, Benzinga movers, disappointing results
    ("Smurfit-Stone posts quarterly profit vs loss", [("earnings", 1, "Smurfit-Stone", None)]),
    ("Darden falls 19 pct after disappointing results", [("earnings", -1, "Darden", None)]),
    ("Fossil Shares Slide After Disappointing Results", [("earnings", -1, "Fossil", None),
                                                       ("share_move", -1, "Fossil", None)]),
    # writedowns and charges cost the quarter
    ("Merrill to write down $5.5 bln", [("earnings", -1, "Merrill", None)]),
    ("London Scottish to Take 22 Mln Stg Charge", [("earnings", -1, "London Scottish", None)]),
    ("Headwaters to take $98 mln impairment charge in FY07", [("earnings", -1, "Headwaters", None)]),
    ("Bombardier to write off $164 mln Metronet stake", [("earnings", -1, "Bombardier", None)]),
    # accounting restatements are legal trouble
    ("UPDATE 1-True Religion Apparel to restate results", [("legal", -1, "True Religion Apparel", None)]),
    ("Juniper Networks completes restatement of financial statements", [("legal", -1, "Juniper Networks", None)]),
    # trials: a drug that fails, disappointing study data
    ("Metabasis diabetes drug fails trial; shares plunge", [("clinical_trial", -1, "Metabasis", None),
                                                           ("share_move", -1, "Metabasis", None)]),
    ("Myriad Genetics says prostate cancer drug fails", [("clinical_trial", -1, "Myriad Genetics", None)]),
    ("Abbvie Shares Down 13.7% After Co. Earlier Backed Away From Pursuing Early Approval Of Rova-T After "
     "Disappointing Study Data", [("clinical_trial", -1, "Abbvie", None), ("share_move", -1, "Abbvie", None)]),
    # share moves: the company whose shares move, a stated tenth or more is a plunge (detail)
    ("Acadia Shares Fall 15% Premarket; CNN Article Reporting Deaths from Nuplazid",
     [("share_move", -1, "Acadia", None)]),
    ("UPDATE 1-CANTV ADS stock falls 43.4 pct on nationalization", [("share_move", -1, "CANTV", None)]),
    ("Boeing shares up 3% premarket after order", [("share_move", 1, "Boeing", None)]),  # made up
    ("Wonga shares collapse", [("share_move", -1, "Wonga", None)]),  # made up: shares, not the company
    ("Apple shares hit record high", [("share_move", 1, "Apple", None)]),  # made up
    ("AbbVie halts enrollment after brain cancer trial misses goal , shares fall",
     [("clinical_trial", -1, "AbbVie", None), ("share_move", -1, "AbbVie", None)]),
    # regulators: a panel vote, the FBI
    ("FDA panel votes against Pfizer drug", [("regulatory", -1, "Pfizer", "FDA panel")]),  # made up
    ("FBI raids Siemens offices", [("legal", -1, "Siemens", "FBI")]),  # made up
    # legal: the suit or probe leads, a lost case
    ("Lawsuit against Boeing over Lion Air crash demands Chicago jury trial", [("legal", -1, "Boeing", None)]),
    ("SEC begins formal probe into Activision: filing", [("legal", -1, "Activision", "SEC")]),
    ("Uber loses appeal over driver employment rights", [("legal", -1, "Uber", None)]),
    ("Cablevision loses network DVR court case", [("legal", -1, "Cablevision", None)]),
    # incidents: a product's sales or marketing suspended
    ("Medtronic suspends sales of heart device wire", [("incident", -1, "Medtronic", None)]),
    ("UPDATE 2-Bayer says temporarily suspends Trasylol marketing", [("incident", -1, "Bayer", None)]),
    # layoffs: jobs at risk
    ("Morrisons shuts four supermarkets, putting 400 jobs at risk", [("layoffs", -1, "Morrisons", None)]),
    ("Ryanair says 900 jobs at risk because of 'excess pilots and cabin crew'", [("layoffs", -1, "Ryanair", None)]),
    # departures: the board ousts the chief
    ("Arrow International fires CEO", [("executive_departure", -1, "Arrow International", None)]),
    ("Boeing ousts chief executive Dennis Muilenburg", [("executive_departure", -1, "Boeing", None)]),
    ("UBS replaces CEO Wuffli with Marcel Rohner", [("executive_departure", -1, "UBS", None)]),
    # bankruptcy: a collapse
    ("Thomas Cook collapses, stranding 150,000 UK holidaymakers", [("bankruptcy", -1, "Thomas Cook", None)]),
    ("Palmer & Harvey collapsed with debts of more than £700m", [("bankruptcy", -1, "Palmer & Harvey", None)]),
]

NO_EVENTS = [
    # round-ups name many companies
    "41 Stocks Moving In Thursday's Pre-Market Session",
    "Benzinga's Top Upgrades, Downgrades For January 7, 2019",
    "Mid-Afternoon Market Update: Crude Oil Up 1.5%; Applied Optoelectronics Shares Soar On Raised Guidance",
    "Earnings Scheduled For August 15, 2017",
    "10 Biggest Price Target Changes For Wednesday",
    "US STOCKS-Earnings, upgrades send Dow above 14,000",
    "INSTANT VIEW 3-June retail sales drop unexpectedly",
    # hedged, negated or not an event
    "Ambac says does not plan to reduce dividend",
    "Boeing considers potential 10% cut to workforce : WSJ",
    "Honda UK plant closure not related to Brexit : Europe boss",
    "Exclusive : JPMorgan in talks to lead Lyft's IPO - sources",
    "Hearing Thermo Fisher In Talks To Buy Agilent",
    "Sumitomo Metal Industries to build blast furnace",
    "Tesla Model 3 aces crash test, sets 'new safety technology benchmark'",
    "Mexican airport company Asur appoints interim CEO",
    "Going Against the Herd",
    "Fed's Powell bolsters rate cut view on trade , global growth concerns",
    "Ackman's Pershing Square exits Starbucks , sticks by Chipotle , sees gains at Agilent",
    "Draghi's parting shot leaves next ECB boss with existential dilemma",
    "Google's Sundar Pichai says 48 employees were fired for sexual harassment",
    "Auditor EY says clear indications of fraud at Wirecard",
    "Intu warns of breach in debt commitments as retail rents collapse",
    "Paint makers reach USD 305 million settlement in California , ending marathon lead poisoning lawsuit",
    "Turkish watchdogs to probe JP Morgan after lira plunge",
    "Notable Insider Buys Last Week: Moderna, Tesla And More",
    "Will Nvidia Beat Estimates?",
    # asset purchases and sales, expected exits, non-drug studies, sector coverage, adjectives: no event
    "Boston Scientific to buy Celsion's Prolieve assets for $60 mln",
    "Iberdrola buys US plant for 209 mln euros",
    "Supertel Hospitality to buy 15 hotels for $42.7 mln",
    "Beyond Meat to sell plant-based patties Brazil , world's No . 3 beef consumer",
    "Dana says expects to exit bankruptcy in January",
    "Iamgold says Westwood scoping study positive",
    "Barrick Reports Final Results, Settlement of Debt Tender Offer, Says Total Purchase Price Up to $1.5B",
    "Exxon Mobil says Billings refinery fire under control",
    "China's GDP goal on track despite virus impact : government economist",
    "Top Wall Street banks working on Deutsche-Commerzbank merger : sources",
    "Morgan Stanley Initiates Coverage On Specialty Retailers",
    "UPDATE: Imperial Capital Reiterates In-Line Rating, Raises PT on Atlas Air Worldwide Holdings on 4Q12 "
    "Adjusted EPS",
    # hedged or not about a company: writedowns feared or denied, restated agreements, jobs at risk "if"
    "Wachovia may face new mortgage write-downs",
    "Goldman Sachs denies writedown rumors",
    "Huntsman discloses amended and restated asset purchase agreement",
    "Telus says 5 , 000 jobs at risk if forced to open network to wireless resellers : report",
    "Nearly seven million jobs at risk if lockdown lasts for months",
    "MTelekom to make firm Slovenia bid, seek control",
    "Exclusive : Airbus suspends A320 revamp study amid output problems",
    "Agrium suspends new potash sales, watching Russia",
    "Royal Mail union loses appeal to overturn injunction halting strike",
    "Qatari raid on Sainsbury fuels bid expectations",
    "Exclusive : Nissan probe into Ghosn trains lens on 'CEO Reserve' fund , Dutch unit",
    "Whistle-blower suit against ITT dismissed",
    "European shares sink lower as miners, oils weigh",
    "US STOCKS-Shares fall after factory orders report",
]

REGULATORS_AND_PEOPLE = {"FDA", "US FDA", "SEC", "EU", "FTC", "DOJ", "Fed", "Powell", "Ghosn", "Elon Musk", "Musk"}


def summary(events: list[FinancialEvent]) -> list[Expected]:
    return [(e.type, e.polarity, e.subject, e.source) for e in events]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text[:50] for text, _ in CASES])
def test_real_headlines_yield_their_events(text: str, expected: list[Expected]) -> None:
    assert summary(match_events(text)) == expected


@pytest.mark.parametrize("text", [text for text, _ in CASES], ids=[text[:50] for text, _ in CASES])
def test_spans_point_at_the_subject_and_source_in_the_original_text(text: str) -> None:
    for event in match_events(text):
        assert event.type in EVENT_TYPES
        if event.subject is not None:
            start, end = event.subject_span
            assert text[start:end] == event.subject
        if event.source is not None:
            start, end = event.source_span
            assert text[start:end] == event.source


def test_every_event_type_is_covered_by_a_real_headline() -> None:
    covered = {event[0] for _, events in CASES for event in events}
    assert covered == set(EVENT_TYPES)
    assert len(CASES) >= 40


@pytest.mark.parametrize("text", NO_EVENTS, ids=[text[:50] for text in NO_EVENTS])
def test_round_ups_hedges_and_non_events_yield_nothing(text: str) -> None:
    assert match_events(text) == []


@pytest.mark.parametrize("text", [text for text, _ in CASES], ids=[text[:50] for text, _ in CASES])
def test_brokers_regulators_and_people_are_never_subjects(text: str) -> None:
    for event in match_events(text):
        assert event.subject not in REGULATORS_AND_PEOPLE
        if event.type.startswith(("rating_", "price_target_")):
            assert event.subject != event.source


def test_nissan_ghosn_arrest_is_about_nissan() -> None:
    text = "Nissan's Ghosn arrested"  # made up in the brief's words
    assert summary(match_events(text)) == [("executive_departure", -1, "Nissan", None)]


def test_fda_approval_names_the_company_after_the_regulator() -> None:
    (event,) = match_events("FDA approves Merck's drug")  # made up in the brief's words
    assert (event.subject, event.source, event.polarity) == ("Merck", "FDA", 1)


def test_ceo_with_a_name_labels_the_company() -> None:
    (event,) = match_events("Tesla CEO Elon Musk steps down")  # made up
    assert event.subject == "Tesla"


def test_a_person_alone_is_not_a_departure_subject() -> None:
    assert match_events("Musk steps down") == []  # made up


def test_unnamed_subject_is_none() -> None:
    assert summary(match_events("Shares fall after profit warning")) == [("guidance", -1, None, None)]  # brief
    assert summary(match_events("Raises FY20 Guidance")) == [("guidance", 1, None, None)]  # made up


def test_price_target_clause_that_contradicts_its_figures_is_dropped() -> None:
    text = "Citigroup Maintains Barrick Gold at Buy, Lowers PT from $57 to $78"
    assert summary(match_events(text)) == [("rating_maintain", 0, "Barrick Gold", "Citigroup")]


def test_events_come_in_text_order_and_once_per_type_and_subject() -> None:
    events = match_events("Royal Caribbean profit up but lowers view")  # from 'UPDATE 2-Royal Caribbean ...'
    assert summary(events) == [("earnings", 1, "Royal Caribbean", None), ("guidance", -1, "Royal Caribbean", None)]
    acquired = match_events("EDO Corp to be acquired by ITT for $56/share")
    assert [e.subject_span[0] for e in acquired] == sorted(e.subject_span[0] for e in acquired)


def test_settlements_and_fines_are_negative_for_the_company() -> None:
    assert match_events("Morgan Stanley settles SEC best execution case")[0].polarity == -1
    assert match_events("William Hill fined £6.2m by Gambling Commission")[0].polarity == -1


def test_leading_company_strips_prefixes_and_possessives() -> None:
    monro = "UPDATE 2-Monro Muffler Q4 earnings up on strong same-store sales"
    assert leading_company(monro) == ("Monro Muffler", 9, 22)
    assert leading_company("BRIEF-Acme Corp says CEO resigns") == ("Acme Corp", 6, 15)  # made up
    assert leading_company("UPDATE: Raymond James Reiterates Outperform On Apple")[0] == "Raymond James"
    assert leading_company("Exclusive : Boeing eyes Lion Air crash software upgrade in 6-8 weeks")[0] == "Boeing"
    traton = "Volkswagen's Traton expected to price IPO toward lower end of range : sources"
    assert leading_company(traton) == ("Volkswagen", 0, 10)
    assert leading_company("Stocks fall on fears China virus to slow growth , gold gains") is None
    assert leading_company("U . S . economic growth slows slightly in third quarter ; outlook less upbeat") is None


def test_strip_prefix_and_round_up_helpers() -> None:
    assert strip_prefix("UPDATE 1-RESEARCH ALERT-Merrill Lynch raises NRG Energy target") == 24
    assert strip_prefix("Reuters: Apple beats") == 9  # made up
    assert is_roundup("Benzinga's Top Initiations")
    assert not is_roundup("Danaher raises quarterly dividend")


def test_company_name_check_rejects_regulators_places_and_people() -> None:
    for name in ("FDA", "European Commission", "China", "Wall Street", "Elon Musk", "Trump", "S&P 500"):
        assert not is_company_name(name), name
    for name in ("Wells Fargo", "Agilent Technologies", "3M", "McDonald's"):
        assert is_company_name(name), name


def test_empty_text_yields_nothing() -> None:
    assert match_events("") == []
    assert match_events("   ") == []
