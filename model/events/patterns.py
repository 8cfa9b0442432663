"""Labelling functions: regular expressions that find financial events in a headline.

These label training data for the neural event head, so a wrong label costs more than a missed one:
every pattern is anchored on a structure that names the company (a headline that *starts* with the
company, a broker headline "Barclays Maintains Overweight on Agilent", a regulator headline "FDA approves
Merck's drug"), hedged or negated wording ("may", "considers", "not", "denies") yields nothing, and
round-ups that name many companies ("41 Stocks Moving In ...", "Benzinga's Top Upgrades") yield nothing.

Choices, documented because the head learns them:

* Subject names are kept *as written*, corporate words included ("NVIDIA Corporation", "Aaron's, Inc."):
  the span must equal the text exactly and linking (model/network) normalises names later. Only a
  trailing possessive is stripped ("Nissan's Ghosn" -> "Nissan"), except for names whose "'s" is part of
  the name (McDonald's, Sainsbury's, Moody's ...).
* A broker, regulator, index, country or person is never a subject. A person-prone verb (charged,
  indicted, arrested) only labels a subject that carries a corporate word (Corp, Bank, Group ...);
  an executive leaving labels the company before the title ("X CEO Smith steps down" -> X) and needs a
  title or a possessive, so "Musk steps down" yields nothing.
* Where the subject is not named ("Shares fall after profit warning", "Raises FY20 Guidance"), the event
  has subject None; such an event is dropped when one of the same type has a subject.
* Settlements are legal events with polarity -1 (detail "settlement"): the company pays, as fines, probes,
  suits and charges cost it (the judged headlines' convention, tests/fixtures/events/README.md). A law
  firm announcing a suit against a company is a legal event about that company.
* Credit-rating agencies (Moody's, S&P, Fitch) are brokers here: "Moody's cuts X rating" is a downgrade.
* An executive's retirement is a departure (-1) like a resignation; appointments are not events.
* Maintained ratings have polarity 0 whatever the rating; initiations take the polarity of the rating.
* A price-target clause whose "from $a to $b" contradicts its verb ("Lowers PT from $57 to $78") is dropped.

Figures against estimates ("Q1 EPS $0.40 vs $0.42 est") belong to model/events/estimates.py, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from model.events.taxonomy import SHARP_MOVE_PCT, FinancialEvent

# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------

# "NVIDIA", "3M", "B.", "O'Reilly", "eBay", "&"; a possessive "'s" is left out of the token
_TOKEN = (
    r"(?:[A-Z][\w&.\-]*['’]s(?=,? (?:Inc|Corp|Co|Ltd)\b)|[A-Z0-9][\w&.\-]*(?:['’](?!s\b)[\w&.\-]+)*|"
    r"[a-z][A-Z][\w\-]*|&)"
)
_CONNECTOR = r"(?:of|de|du|la|von|van|der|y|del|&)"
_SUFFIX = r"(?:Inc|Corp|Co|Ltd|LLC|L\.P|LP|plc|PLC|SA|AG|NV|N\.V|S\.A|Limited|Incorporated)\.?"
_NAME = rf"{_TOKEN}(?:,? {_SUFFIX}(?![\w])| (?:{_CONNECTOR} )?{_TOKEN}){{0,6}}?"
_SUBJ = rf"(?P<subj>{_NAME}(?:['’]s)?)"
_SRC = rf"(?P<src>{_NAME}(?:['’]s)?)"  # "Moody's"
_POSS = r"(?:'s|’s|')"
# What may follow a name that is followed by more of the sentence: a clause break, a preposition, the end.
_END = r"(?=\s*(?:[,;:(]|\s-\s|\s–\s|$)|\s+(?i:for|in|from|at|with|worth|valued|after|as|amid|on|over|to|by|and|in|"\
       r"says|said|shares|stock|deal|,)\b|\s+(?:USD|EUR|GBP|[$£€]|\d))"

_POSSESSIVE_NAMES = frozenset(
    "mcdonald's sainsbury's moody's macy's kellogg's wendy's dillard's aaron's lowe's domino's kohl's denny's "
    "hershey's dick's land's friendly's carl's papa john's sotheby's christie's lloyd's claire's "
    "o'reilly's applebee's chico's cabela's brink's fred's carter's harrah's dunkin' marshalls'".split()
)

_PLACES = frozenset(
    x.strip()
    for x in """
    u.s.,us,usa,uk,britain,china,japan,germany,france,india,russia,canada,mexico,brazil,italy,spain,australia,
    korea,south korea,north korea,iran,iraq,greece,venezuela,argentina,turkey,saudi arabia,saudi,europe,asia,
    africa,ireland,switzerland,sweden,norway,netherlands,holland,belgium,austria,poland,israel,egypt,nigeria,
    south africa,indonesia,thailand,vietnam,taiwan,hong kong,singapore,malaysia,philippines,pakistan,chile,
    peru,colombia,qatar,uae,dubai,scotland,wales,england,california,texas,new york,massachusetts,florida,ohio,
    illinois,ethiopia,kenya,ghana,bahrain,kuwait,oman,jordan,lebanon,syria,ukraine,hungary,czech,portugal,
    denmark,finland,romania,bulgaria,serbia,croatia,kazakhstan,bangladesh,sri lanka,new zealand,iceland,
    luxembourg,morocco,algeria,tunisia,libya,angola,zambia,zimbabwe,cuba,ecuador,bolivia,uruguay,paraguay,
    panama,brussels,beijing,washington,tokyo,london,paris,berlin,moscow,shanghai,mumbai,delhi,seoul,sydney,
    toronto,frankfurt,milan,madrid,zurich,geneva,wuhan,detroit,chicago,philadelphia,boston,world,mass.,calif.
    """.split(",")
    if x.strip()
)

_REJECT_NAMES = _PLACES | frozenset(
    x.strip().lower()
    for x in """
    fda,sec,ftc,doj,fbi,cftc,finra,fca,fsa,cma,ofcom,ofgem,faa,ntsb,nhtsa,epa,ema,eu,e.u.,ec,european commission,
    brussels,fed,federal reserve,ecb,boe,bank of england,bank of japan,boj,pboc,imf,world bank,wto,opec,treasury,
    congress,senate,house,white house,pentagon,justice department,supreme court,court,judge,police,regulators,
    regulator,government,parliament,kremlin,beijing,washington,tokyo,london,paris,berlin,moscow,u.s.,us,usa,u,
    uk,britain,china,japan,germany,france,india,russia,canada,mexico,brazil,italy,spain,australia,korea,
    south korea,north korea,iran,iraq,greece,venezuela,argentina,turkey,saudi arabia,europe,asia,africa,
    ireland,switzerland,sweden,norway,netherlands,belgium,austria,poland,israel,egypt,nigeria,south africa,
    indonesia,thailand,vietnam,taiwan,hong kong,singapore,malaysia,philippines,pakistan,chile,peru,colombia,
    qatar,uae,dubai,scotland,wales,england,california,texas,new york,massachusetts,florida,ohio,illinois,
    dow,dow jones industrial average,s&p,s&p 500,s&p500,nasdaq,nyse,ftse,ftse 100,nikkei,dax,cac,hang seng,
    sensex,tsx,stoxx,russell 2000,vix,stocks,stock,shares,share,markets,market,wall street,wall st,oil,gold,
    silver,copper,dollar,euro,yen,sterling,pound,bonds,treasuries,bitcoin,investors,traders,analysts,analyst,
    brokerages,brokers,banks,airlines,automakers,retailers,companies,firms,firm,company,workers,unions,union,
    economy,sources,source,report,trump,obama,bush,biden,xi,putin,merkel,brexit,cramer,jim cramer,buffett,
    musk,elon musk,why,how,what,when,where,who,which,here,here's,this,these,that,those,is,are,will,can,should,
    does,do,did,a,an,the,top,best,biggest,big,new,early,late,hot,key,exclusive,update,breaking,watch,trading,
    earnings,week,today,tomorrow,yesterday,monday,tuesday,wednesday,thursday,friday,saturday,sunday,
    january,february,march,april,may,june,july,august,september,october,november,december,q1,q2,q3,q4,
    benzinga,insider,options,sees,co,co.,it,its,he,she,they,we,i,you,no,not,all,some,more,most,many,
    one,two,three,four,five,ten,former,ex,chief,ceo,cfo,shareholders,shareholder,board,staff,unit,shoppers,
    consumers,customers,business,industry,sector,tech,energy,property,housing,factory,music,equities,
    commodities,global,world,european,asian,american,chinese,japanese,british,german,french,indian,
    corporate,mining,miners,banking,insurers,drugmakers,carmakers,refiners,exporters,fund,funds,hedge funds,
    bank,pension,private equity,lenders,judge,jury,prosecutors,authorities,officials,ministers,minister,
    mps,lawmakers,senators,democrats,republicans,state,states,city,cities,people,families,users,women,men,
    pilot,pilots,health,limited,usda,gdp,inflation,owners,propane,touts,landmark,expense,testimony,labour,labor,retail,
    beckhams,bankrupt,workers,passengers,deadly,serious,extend,fatal,student,students,teen,
    campaigners,activists,protesters,bird,birds,
    bahraini,saudi,emirati,kuwaiti,qatari,omani,ethiopian,kenyan,israeli,palestinian,iranian,iraqi,syrian,
    """.split(",")
    if x.strip()
)

_NATIONALITIES = frozenset(
    """american british chinese japanese german french indian russian italian spanish swiss dutch swedish
    norwegian danish finnish belgian austrian irish israeli taiwanese korean south-korean brazilian mexican
    canadian australian turkish greek polish saudi emirati qatari egyptian nigerian african european asian
    latin thai vietnamese indonesian malaysian singaporean philippine pakistani argentine chilean peruvian
    colombian venezuelan iranian iraqi ukrainian hungarian czech portuguese scottish welsh english""".split()
)
# Job-like words Reuters puts before a name ("Retailer Kesko", "Chipmaker Broadcom"): stripped from a name.
_DESCRIPTORS = frozenset(
    """retailer grocer chipmaker automaker carmaker drugmaker insurer lender miner brewer refiner homebuilder
    conglomerate auditor airline carrier publisher broker bank-owner tycoon billionaire investor bankrupt
    troubled embattled struggling ailing scandal-hit brokerage""".split()
)
# A capitalised word followed by one of these is an industry, not a company ("Paint makers", "E-cigarette firms").
_COLLECTIVE_NOUNS = frozenset(
    """makers maker firms companies producers manufacturers industry sector stocks investors users retailers
    suppliers lenders banks funds miners exporters importers giants brands officials regulators executives
    bosses unions groups operators carriers insurers airlines automakers carmakers drugmakers chipmakers
    watchdogs watchdog authorities prosecutors lawmakers""".split()
)
# Plural trades that end a sector's name, never a company's ("Fortune Brands" and "LAN Airlines" are companies).
_SECTOR_NOUNS = frozenset(
    """retailers makers firms producers manufacturers stocks investors automakers carmakers drugmakers chipmakers
    exporters importers""".split()
)
# Tokens that never sit inside a company name in a headline.
_NON_NAME_TOKENS = frozenset(
    """ceo cfo coo cto chairman chairwoman chief analysts analyst insider insiders week today shareholders
    investors maintain maintains stocks commences tender offer announces reports completes agrees signs says
    assets talks regulator regulators watchdog owners near deal sell-side buy-side""".split()
)

_GENERIC_FIRST_TOKENS = frozenset(
    """why how what when where who which here here's this these is are will can should does do did
    top best biggest big new early hot key exclusive update breaking watch trading earnings week today
    stocks shares stock markets market analysts analyst brokerages sources report a an no not
    mid-day mid-afternoon mid-morning pre-market premarket after-hours after before ahead morning midday
    weekly daily monthly wall u.s. us uk eu benzinga's benzinga head chief ceo cfo boss chairman former ex
    ex- president founder co-founder second third fourth fifth first last next notable insider insiders
    institutions two three four five six seven eight nine ten hundreds thousands dozens several analysts
    deals deal merger mergers shares assets certain stake majority remaining business unit rights portfolio
    pilot nearly almost another fears around""".split()
)

_FIRST_NAMES = frozenset(
    """john james robert michael william david richard joseph thomas charles christopher daniel matthew
    anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason
    jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel
    frank gregory raymond alexander patrick jack dennis jerry tyler aaron jose adam henry nathan douglas
    zachary peter kyle walter ethan jeremy harold keith christian roger noah gerald carl terry sean austin
    arthur lawrence jesse dylan bryan joe jordan billy bruce albert willie gabriel logan alan juan wayne
    roy ralph randy eugene vincent russell elijah louis bobby philip johnny mary patricia jennifer linda
    elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra ashley kimberly emily
    donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura cynthia kathleen
    amy shirley angela helen anna brenda pamela nicole emma samantha katherine christine debra rachel
    catherine carolyn janet ruth maria heather diane virginia julie joyce victoria olivia kelly christina
    lauren joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria ann teresa
    kathryn sara janice jean alice madison doris abigail julia judy grace denise amber marilyn beverly
    danielle theresa sophia marie diana brittany natalie isabella charlotte rose alexis kayla elon tim
    jeff bill steve jamie warren sheryl satya sundar mukesh carlos jack jim tom rishi boris theresa
    angela emmanuel xi vladimir jerome janet christine mario ben hank sam marissa meg indra ginni
    mary travis dara evan reed larry sergey jensen lisa safra jamie lloyd brian mike phil carlos""".split()
)

# Names that look like a person ("First Last") but are companies.
_PERSON_LIKE_COMPANIES = frozenset(
    """morgan stanley,wells fargo,charles schwab,ralph lauren,tory burch,john lewis,john deere,kate spade,
    michael kors,tommy hilfiger,james hardie,thomas cook,marks & spencer,johnson & johnson,raymond james,
    morgan keegan,edward jones,william hill,walt disney,thomas weisel,stanley black & decker,
    david jones,harvey norman,george weston,paul hastings,jim beam,victoria's secret,
    louis vuitton,patrick industries,ann taylor,kenneth cole,steve madden""".split(",")
)

_CORPORATE_WORDS = re.compile(
    r"\b(?:Inc|Corp|Corporation|Co|Company|Ltd|Limited|LLC|LP|plc|PLC|SA|AG|NV|SE|ASA|AB|Group|Holdings?|"
    r"Bank|Bancorp|Financial|Capital|Securities|Partners|Airlines?|Airways|Motors?|Energy|Pharma\w*|"
    r"Technologies|Technology|Systems|International|Industries|Enterprises|Brands|Entertainment|"
    r"Communications|Networks|Therapeutics|Biosciences|Resources|Petroleum|Oil|Gas|Mining|Insurance|"
    r"Investments?|Trust|Realty|Foods?|Stores|Software|Semiconductor|Electric|Motor|Steel|Chemicals?)\b\.?"
)

_BROKERS = frozenset(
    x.strip().lower()
    for x in """
    goldman,goldman sachs,morgan stanley,jpmorgan,jp morgan,j.p. morgan,jpmorgan chase,citi,citigroup,citibank,
    merrill,merrill lynch,bofa,bank of america,b of a securities,bofa securities,bofa merrill lynch,
    bank of america merrill lynch,credit suisse,ubs,deutsche bank,deutsche,barclays,barclays capital,jefferies,
    jefferies & co,jefferies & co.,wells fargo,raymond james,piper sandler,piper jaffray,cowen,cowen & co.,
    cowen and co,needham,oppenheimer,stifel,stifel nicolaus,keybanc,rbc,rbc capital,rbc capital markets,bmo,
    bmo capital,bmo capital markets,evercore,evercore isi,isi group,bernstein,sanford bernstein,
    alliancebernstein,wedbush,baird,robert w. baird,lehman,lehman brothers,bear stearns,prudential,abn amro,
    panmure,panmure gordon,calyon,socgen,societe generale,hsbc,nomura,macquarie,mizuho,canaccord,
    canaccord genuity,cantor fitzgerald,cantor,craig-hallum,b. riley,b. riley fbr,b. riley & co.,fbr,
    fbr capital,janney,benchmark,rosenblatt,loop capital,guggenheim,susquehanna,argus,cfra,morningstar,
    moody's,s&p,standard & poor's,fitch,fortis,dahlman rose,jmp,jmp securities,janco,keefe bruyette,kbw,
    sandler o'neill,suntrust,suntrust robinson humphrey,truist,wachovia,a.g. edwards,friedman billings,
    thomas weisel,pacific crest,kepler,kepler cheuvreux,exane,bnp paribas,natixis,commerzbank,berenberg,
    liberum,numis,investec,peel hunt,cazenove,dresdner kleinwort,dresdner,ing,rabobank,clsa,daiwa,
    mitsubishi ufj,smbc nikko,cibc,td securities,scotiabank,national bank,desjardins,william blair,
    wedbush securities,mkm partners,btig,d.a. davidson,northland,roth capital,ladenburg thalmann,
    h.c. wainwright,maxim group,brean capital,telsey,telsey advisory,buckingham,wunderlich,topeka,
    sterne agee,atlantic equities,redburn,bryan garnier,mediobanca,equita,keefe,keefe bruyette & woods,
    ubs securities,citigroup global markets,goldman sachs group,analyst,analysts,brokerages,brokers
    """.split(",")
    if x.strip()
)

_REGULATOR = (
    r"(?P<src>(?:U\s?\.\s?S\s?\.\s?|US |EU |European |UK |British |Chinese |Japanese |German |French |Canadian |"
    r"Australian |Indian |New York |State |Swiss |Italian |Spanish |Dutch |Korean |South Korean |Indian |Brazilian |"
    r"Turkish |Russian |Irish |Swedish |Norwegian |Danish |Belgian |Austrian |Mexican )?"
    r"(?:FDA|Food and Drug Administration|EMA|CHMP|EU|E\.U\.|"
    r"European Commission|Commission|EC|Brussels|FTC|DOJ|Justice Department|Department of Justice|SEC|CMA|FCA|FSA|"
    r"CFTC|FINRA|FAA|NHTSA|EPA|Health Canada|FBI|police|"
    r"Serious Fraud Office|SFO|Ofcom|Ofgem|regulators?|watchdog|prosecutors|attorneys? general|"
    r"authorities|antitrust regulators?|competition regulators?|(?:[A-Z][\w.]*(?:['’]s)? ){1,2}(?:[a-z]+ )?"
    r"(?:watchdog|regulator))(?: (?:panel|advisers|advisory panel|staff|committee|reviewers))?)"
)

# --------------------------------------------------------------------------------------------------
# Cleaning: prefixes, round-ups, questions
# --------------------------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^(?:\s*(?:(?:UPDATE|RPT|REFILE|CORRECTED|CORRECTION|BRIEF|EXCLUSIVE|Exclusive|RESEARCH ALERT|Reuters|"
    r"BUZZ|HOT STOCKS|ANALYSIS|INSIGHT|WRAPUP|FEATURE|Breaking|BREAKING|Update|TABLE)(?:\s*\d+)?\s*[-:–]\s*|"
    r"Hearing\s+))+"
)

_ROUNDUP = re.compile(
    r"Stocks Moving|Benzinga's Top|Top Upgrades|Top Downgrades|Top Initiations|Price Target Changes|"
    r"Market Update|Mid-Day|Mid-Morning|Mid-Afternoon|Midday|Pre-Market Session|After-Hours|Earnings Scheduled|"
    r"Stocks To Watch|Stocks You Should|Biggest Movers|\bMovers\b|Biotech Pulse|PreMarket Prep|lightning round|"
    r"Options Activity|Stocks Hitting|52[- ]Week|Week Ahead|Morning Report|Market Recap|Economic Calendar|"
    r"Earnings Roundup|Trading Ideas|Mad Money|Everything Jim Cramer|Cramer Remix|Before the Bell|"
    r"^Business live|Business live|^(?:[A-Z/&]+ )*(?:STOCKS|MARKETS|FOREX|METALS|BONDS|CREDIT|TREASURIES|"
    r"GRAINS|DIARY|FACTBOX|TABLE|SNAPSHOT|WRAPUP|INSTANT VIEW|TIMELINE|CHRONOLOGY|KEY FACTS|PRECIOUS|OIL|"
    r"ENERGY|EMERGING MARKETS|ADR Report|GLOBAL [A-Z]+)(?:\s*\d+)?\s*-|"
    r"^\d+ (?:Stocks|Companies|Biggest|Big|Top|Mid-Cap|"
    r"Small-Cap|Large-Cap|Tech|Health|Financial|Energy)|^(?:FACTBOX|Factbox|Timeline|TIMELINE|Diary|DIARY)\b|"
    r"Research Roundup|Analyst Ratings|Analyst Actions|Highlights|Earnings Preview|What to Expect|Round-?up",
    re.IGNORECASE,
)


def strip_prefix(text: str) -> int:
    """The offset where the headline proper starts, past 'UPDATE 1-', 'BRIEF-', 'Exclusive :', 'Hearing'."""
    match = _PREFIX.match(text)
    return match.end() if match else 0


def is_roundup(text: str) -> bool:
    """True for round-ups and market wraps that name many companies: their events cannot be attributed."""
    return bool(_ROUNDUP.search(text) or _ROUNDUP.search(text[strip_prefix(text):]))


# --------------------------------------------------------------------------------------------------
# Subject validation
# --------------------------------------------------------------------------------------------------


def _trim_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a captured name to the company as written: no descriptor ('Retailer'), place possessive
    ("Chile's Cornershop" -> 'Cornershop'), trailing possessive or punctuation."""
    while end > start and text[end - 1] in "-–,;:":
        end -= 1
    place = re.match(r"(\S+?)(?:'s|’s) (?=\S)", text[start:end])
    if place and place.group(1).lower() in _PLACES:
        start += place.end()
    owned = re.search(r"-(?:controlled|owned|backed|acquired|based)$", text[start:end])
    if owned:
        end -= len(owned.group(0))  # "Glencore-controlled" -> 'Glencore'
    based = re.match(r"\S+-(?:based|linked|backed|owned|controlled) (?=\S)|(?:Ex|ex|Former|former)-(?=[A-Z])",
                     text[start:end])
    if based:
        start += based.end()  # "U.S.-based Monarch Hydraulics"
    first = re.match(r"(\S+) (?=[A-Z0-9])", text[start:end])
    if first and (first.group(1).lower() in _DESCRIPTORS or first.group(1).lower().endswith("maker")):
        start += first.end()
    name = text[start:end]
    if name.lower() in _POSSESSIVE_NAMES:
        return start, end
    for poss in ("'s", "’s"):
        if name.endswith(poss) and name.lower() not in _POSSESSIVE_NAMES:
            return start, end - len(poss)
    if name.endswith("s'"):
        return start, end - 1
    return start, end


def _looks_like_person(name: str) -> bool:
    """'Elon Musk', 'Mr Smith': a first name followed by a surname, unless a known company ('Wells Fargo')."""
    low = name.lower()
    if low in _PERSON_LIKE_COMPANIES:
        return False
    tokens = low.split()
    if tokens and tokens[0].rstrip(".") in {"mr", "mrs", "ms", "dr", "sen", "president", "judge", "sir", "lord"}:
        return True
    return len(tokens) in (2, 3) and tokens[0] in _FIRST_NAMES and not _CORPORATE_WORDS.search(name)


def is_company_name(name: str) -> bool:
    """Whether a captured name can be a subject: not a regulator, country, index, person or headline word."""
    name = name.strip()
    low = name.lower()
    tokens = low.split()
    if not tokens or len(tokens) > 7 or low in _REJECT_NAMES:
        return False
    if tokens[0] in _GENERIC_FIRST_TOKENS or re.fullmatch(r"[\d.,$%]+|(?:19|20)\d\d\w*|\d+(?:st|nd|rd|th)\b.*",
                                                          tokens[0]):
        return False
    if low in _NATIONALITIES or any(token.strip(".,'’") in _NON_NAME_TOKENS for token in tokens):
        return False
    if len(tokens) > 1 and tokens[-1] in _SECTOR_NOUNS:  # "Specialty Retailers": a sector
        return False
    if low.startswith("the ") and low[4:] in _REJECT_NAMES:
        return False
    if not re.search(r"[A-Za-z]{2}|[A-Z]", name) or name.isdigit():
        return False
    return not _looks_like_person(name)


def _is_known_broker(name: str) -> bool:
    return name.strip().lower() in _BROKERS


# --------------------------------------------------------------------------------------------------
# Leading company
# --------------------------------------------------------------------------------------------------

_STOP_WORDS = frozenset(
    """says said say shares share stock stocks to reports reported report announces announced posts posted q1 q2 q3
    q4 1q 2q 3q 4q fy h1 h2 beats beat misses miss tops raises cuts lowers sees wins gets receives files is are was
    were will would has have had ceo cfo coo cto chairman chairwoman chief president executive founder co-founder
    boss profit profits earnings revenue revenues sales net quarterly first-quarter second-quarter third-quarter
    fourth-quarter full-year annual results in on at for with from after as by and up down hits may could might
    unit agrees completes acquires buys sells reaches names appoints plans expects launches enters signs inks
    adds falls rises jumps drops slips gains soars surges plunges tumbles sinks slides climbs trades trading higher
    lower seen set eyes confirms denies backs shareholders investors board workers union swings swung posts
    reaffirms lifts ups hikes slashes trims warns issues declares suspends halts resigns quits steps ousted fired
    recalls lays to-buy offers bids buys merges agree agreed announce said, says, vs vs. est est. sees eps
    than over under amid ahead before despite against into via while why how what new phase trial study
    analysts analyst maintain january february march april june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec reiterates reiterated maintained upgrades
    downgrades upgraded downgraded initiates initiated earlier also reveal reveals""".split()
)
# "French carmaker ", "U . S . gunmaker ": a nationality or place and the company's trade, before its name
_TRADES = _DESCRIPTORS | {"bank", "firm", "group", "utility", "operator", "developer", "giant", "telecoms"}
_NATIONAL_TRADE = re.compile(r"(U\s?\.\s?S\s?\.|[A-Z][\w.\-]*) ([a-z][\w\-]*) (?=[A-Z])")
# "Luxury group Hermes", "Payday lender Non-Standard Finance", "Danish dairy group Arla": a word, up to two more
# lowercase words (no verb: "MTelekom to make firm ..." is no descriptor) and a trade noun before the name
_TRADE_NOUNS = (
    r"(?:group|firm|lender|dealer|retailer|owner|operator|company|giant|bank|insurer|chain|airline|carrier|"
    r"developer|producer|manufacturer|supplier|provider|miner|brewer|builder|specialist|publisher|conglomerate|"
    r"distributor|grocer|[a-z]*maker)"
)
_TRADE_PHRASE = re.compile(
    rf"(?P<first>U\s?\.\s?S\s?\.|[A-Z][\w\-&]*)(?P<mid>(?: [a-z][\w\-]*(?<!s)){{0,2}}) {_TRADE_NOUNS} (?=[A-Z])"
)


def _past_descriptor(text: str, begin: int) -> int:
    """The offset past a trade descriptor that precedes the company ("Car dealer Pendragon" -> 'Pendragon')."""
    match = _TRADE_PHRASE.match(text, begin)
    if match is None:
        return begin
    first = match.group("first").lower()
    if first in _STOP_WORDS or first in _GENERIC_FIRST_TOKENS:
        return begin
    if any(word in _STOP_WORDS or word in _FUNCTION_WORDS for word in match.group("mid").split()):
        return begin
    after = re.match(r"\S+", text[match.end():])
    word = re.sub(_POSS + "$", "", after.group(0).rstrip(",;:")).lower() if after else ""
    if word in _STOP_WORDS or word in _PLACES or word in _MIDNAME_STOPS or _ORDINAL_PERIOD.fullmatch(word):
        return begin  # "BMW group September sales rise": the group is the company
    return match.end()


_FUNCTION_WORDS = frozenset("a an the of to for in on at by with as and or its their is are was be make take".split())
_ORDINAL_PERIOD = re.compile(r"\d+(?:st|nd|rd|th)\b.*|[1-4]Q\w*|\d{4}/\d\d", re.IGNORECASE)
_MIDNAME_STOPS = frozenset({"u.s.", "us", "uk", "u.k."})


def _token_spans(text: str, start: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:])]


def _is_name_token(token: str) -> bool:
    return bool(re.match(r"[A-Z0-9&]|[a-z][A-Z]", token)) and not re.fullmatch(r"[$%\d.,]+[A-Za-z]{0,2}", token)


def _leading_run(text: str) -> tuple[int, int] | None:
    """[start, end) of the capitalised run a headline starts with, cut at a possessive, comma or headline word.

    A place possessive is skipped ("Australia's Tattersalls" -> 'Tattersalls'), and so is a nationality with
    a trade ("French carmaker Renault" -> 'Renault'); a run followed by an industry noun is not a company
    ("Paint makers ..." -> None).
    """
    begin = strip_prefix(text)
    trade = _NATIONAL_TRADE.match(text, begin)
    if trade and trade.group(1).lower().replace(" ", "") in _NATIONALITIES | _PLACES \
            and (trade.group(2) in _TRADES or trade.group(2).endswith("maker")):
        begin = trade.end()
    else:
        begin = _past_descriptor(text, begin)
    tokens = _token_spans(text, begin)
    if len(tokens) > 1 and re.sub(_POSS + "$", "", text[slice(*tokens[0])]).lower() in _PLACES \
            and re.search(_POSS + "$", text[slice(*tokens[0])]):
        tokens = tokens[1:]
    end = None
    for index, (tok_start, tok_end) in enumerate(tokens):
        raw = text[tok_start:tok_end]
        token = raw.rstrip(",;:")
        if end is not None and re.fullmatch(_CONNECTOR, token) and token != "&":
            continue
        low = re.sub(_POSS + "$", "", token.lower())
        if _ends_run(text, token, low, tok_start, index):
            if low in _COLLECTIVE_NOUNS:
                return None
            break
        end = tok_start + len(token)
        if re.search(_POSS + "$", token) or raw != token:
            break
        if len(token) == 1 and text[tok_end:tok_end + 2] == " .":
            end = None if index == 0 else end  # spaced "U . S ." is not part of a name
            break
    return (tokens[0][0], end) if end is not None and tokens else None


def _ends_run(text: str, token: str, low: str, position: int, index: int) -> bool:
    if not _is_name_token(token) or low in _STOP_WORDS or _starts_trigger(text, position):
        return True
    if index > 0 and (low in _MIDNAME_STOPS or _ORDINAL_PERIOD.fullmatch(token)):
        return True
    if index > 0 and len(token) == 1 and text[position + 1:position + 3] == " .":
        return True
    return False


def leading_company(text: str) -> tuple[str, int, int] | None:
    """The company a headline starts with, past prefixes ('UPDATE:', 'BRIEF-', 'Reuters:'): (name, start, end).

    Headlines put the subject first, so the leading capitalised run (cut at a possessive, a comma, a
    headline verb or noun like 'Shares', 'Says', 'Q2') is the best candidate. None when that run is not a
    company name (a regulator, index, person, country or headline word).
    """
    run = _leading_run(text)
    if run is None:
        return None
    start, end = _trim_name(text, *run)
    name = text[start:end]
    return (name, start, end) if is_company_name(name) else None


# --------------------------------------------------------------------------------------------------
# Events: construction and the checks shared by every rule
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """An event with the offset that orders it in the text (its subject, else its trigger)."""

    position: int
    event: FinancialEvent


def _event(
    text: str,
    event_type: str,
    polarity: int,
    subject: tuple[int, int] | None,
    detail: str = "",
    source: tuple[int, int] | None = None,
    position: int = 0,
) -> _Found:
    return _Found(
        subject[0] if subject else position,
        FinancialEvent(
            type=event_type,
            polarity=polarity,
            subject=text[subject[0]:subject[1]] if subject else None,
            subject_span=subject,
            source=text[source[0]:source[1]] if source else None,
            source_span=source,
            detail=detail,
        ),
    )


def _company_span(text: str, match: re.Match[str], group: str) -> tuple[int, int] | None:
    """The trimmed span of a captured name when it is a company, else None."""
    if match.group(group) is None:
        return None
    start, end = _trim_name(text, match.start(group), match.end(group))
    if text[start:end + 2].lower().replace("’", "'") in _POSSESSIVE_NAMES:
        end += 2  # "McDonald's": the "'s" is part of the name
    return (start, end) if start < end and is_company_name(text[start:end]) else None


_HEDGES = re.compile(
    r"\b(?:may|might|could|would|should|considers?|considering|weighs?|weighing|mulls?|mulling|eyes|eyeing|"
    r"plans?|planning|seeks?|seeking|explores?|exploring|talks?|rumou?rs?|reportedly|likely|possible|potential|"
    r"threatens?|threat|fears?|risks?|if|unless|not|no|never|n't|denies|deny|denied|rules? out|avoids?|averts?|"
    r"expected to|hopes?|wants?|aims?|urges?|asks?|calls? for|preview|before|ahead|won't|cannot|nor|without|"
    r"sees no|to consider|mull|consider|study|studies|reviewing|review|proposes?|proposal|would-be|said to)\b",
    re.IGNORECASE,
)

# Capitalised words a subject-to-trigger gap may hold (Title Case headlines capitalise every word).
_GAP_WORDS = frozenset(
    """shares share stock stocks says said reports reported posts posted profit profits earnings revenue revenues
    sales net income eps quarterly first-quarter second-quarter third-quarter fourth-quarter full-year annual
    fiscal results its the a an to will also after on in with unit announces announced confirms soar soars jump
    jumps rise rises fall falls drop drops slide slides plunge plunges tumble tumbles surge surges sink sinks
    gain gains climb climbs spike spikes trade trades trading higher lower up down are is as of for year quarter
    operating adjusted core underlying group company inc corp co says, reported, reporting weak strong better
    board directors massive huge big surprise disappointing solid mixed
    worse than sec doj ftc fda ema eu u.s. us faa its' first second third fourth half h1 h2 q1 q2 q3 q4 fy
    same-store comparable organic interim final dec nov oct sept sep aug jul june may apr mar feb jan
    ltd plc ag sa holdings subsidiary arm division january february march april june july august september
    october november december""".split()
)


def _gap_ok(gap: str, max_words: int) -> bool:
    """A short stretch between subject and trigger that stays in one clause and hedges nothing."""
    if re.search(r"[;:?!\"]|\s[-–—]\s|,", gap) or _HEDGES.search(gap):
        return False
    words = gap.split()
    if len(words) > max_words:
        return False
    for word in words:
        bare = word.strip("'’()")
        if bare[:1].isupper() and bare.lower() not in _GAP_WORDS and not _is_figure_word(bare):
            return False
    return True


def _clauses_ok(gap: str, max_words: int) -> bool:
    """A gap of up to three short clauses ('profit tops estimates; raises outlook'), each one a clean gap."""
    clauses = re.split(r"\s*[,;]\s*", gap)
    return len(clauses) <= 3 and all(_gap_ok(clause, max_words) for clause in clauses)


def _is_figure_word(word: str) -> bool:
    return bool(re.fullmatch(r"(?:[QH][1-4]|[1-4]Q|FY\d*|USD|\$?[\d.,]+%?\w{0,3}|(?:19|20)\d\d\w*)", word))


# --------------------------------------------------------------------------------------------------
# Rules whose subject is the leading company: "X <short gap> <trigger>"
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LeadRule:
    """A trigger after the headline's leading company; the gap between them is checked."""

    type: str
    polarity: int
    detail: str
    trigger: re.Pattern[str]
    max_gap: int | None = 6  # None: anywhere in the text (trial read-outs quote the result late)
    gap_veto: re.Pattern[str] | None = None  # wording in the gap that cancels the rule
    veto: re.Pattern[str] | None = None  # wording anywhere that cancels the rule
    needs: re.Pattern[str] | None = None  # wording the text must hold
    corporate: bool = False  # the subject must carry a corporate word (person-prone verbs)
    unnamed_ok: bool = False  # may fire with subject None on a headline that starts with the trigger


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _lead(event_type: str, polarity: int, detail: str, trigger: str, **options: object) -> _LeadRule:
    compiled = {key: _rx(value) if isinstance(value, str) else value for key, value in options.items()}
    # a word trigger may not continue a word ("cost-cutting"); one that starts with punctuation may
    pattern = _rx(rf"(?:(?<![\w\-])|(?=\W))(?:{trigger})(?![\w])")
    return _LeadRule(event_type, polarity, detail, pattern, **compiled)  # type: ignore[arg-type]


_EST = r"(?:estimates?|expectations?|forecasts?|views?|consensus|the street|street|expected|analysts'? \w+)"
_FILL = (
    r"(?:full[- ]year|annual|year|yearly|fiscal|fy\s?'?\d*|\d{4}(?:/\d\d)?|q[1-4]|[1-4]q|quarterly|"
    r"(?:first|second|third|fourth)[- ](?:quarter|half)|h[12]|profits?|earnings|sales|revenues?|eps|growth|"
    r"margins?|operating|pretax|pre-tax|net|income|core|underlying|adjusted|financial|medium[- ]term|"
    r"long[- ]term|'?\d\d|and|its|the|its|\w+[- ]year|annual|dividend|production|output|volume|"
    r"(?:\d(?:st|nd|rd|th)[- ])?qtr|(?:full[- ])?yr|same[- ]store|comparable|revs|"
    r"jan\w*|feb\w*|march|april|may|june|july|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*)"
)
_GUIDE = r"(?:forecasts?|outlook|guidance|view|projections?|targets?|predictions?|goals?)"
_UP = (
    r"(?:raises?|raised|raising|lifts?|lifted|ups|upped|boosts?|boosted|hikes?|hiked|increases?|increased|improves?|"
    r"(?:nudges?|nudged|edges?|edged|bumps?|bumped|ratchets?) up)"
)
_DOWN = (
    r"(?:cuts?|cutting|lowers?|lowered|lowering|slashes|slashed|trims?|trimmed|reduces?|reduced|pares?|pared|"
    r"scales? back|tempers?|tempered|downgrades?|withdraws?|withdrew|withdrawn|pulls?|pulled|scraps?|scrapped|"
    r"suspends?|suspended|(?:nudges?|nudged|ratchets?) down)"
)
_METRIC = r"(?:profits?|earnings|net income|net profit|income|eps|net|sales|revenues?|turnover)"
_MOVE_UP = (
    r"(?:rises?|rose|jumps?|jumped|climbs?|climbed|soars?|soared|surges?|surged|(?:more than )?doubles?|doubled|"
    r"gains?|gained|increases?|increased|grows?|grew|up|leaps?|leapt|triples?|tripled|rebounds?|rebounded|"
    r"advances?|improves?|improved|higher|beats|tops|rockets?|skyrockets?)"
)
_MOVE_DOWN = (
    r"(?:falls?|fell|drops?|dropped|slumps?|slumped|slides?|slid|declines?|declined|tumbles?|tumbled|plunges?|"
    r"plunged|sinks?|sank|dips?|dipped|down|halves|halved|shrinks?|shrank|slips?|slipped|sags?|dives?|dived|"
    r"lower|misses|plummets?|plummeted|collapses?|crashes|tanks?|slows?)"
)
_GUIDE_WORDS_IN_GAP = (
    r"\b(?:sees|seen|forecasts?|outlook|guidance|expects?|predicts?|projects?|guides?|targets?|warns?|views?)\b"
)
_NOT_GUIDE = r"(?! (?:forecasts?|outlook|guidance|views?|targets?|goals?)\b)"
_TITLES = r"(?:CEO|CFO|COO|CTO|chief|chairman|chairwoman|president|boss|executive|founder|co-founder|head|director)"
_DEPART = (
    r"resigns|resigned|steps down|stepped down|to step down|stepping down|quits|quit|to quit|ousted|is ousted|"
    r"fired|is fired|sacked|departs|departed|to depart|to leave|leaves|leaving|to go|exits|to exit|arrested|"
    r"is arrested|detained|replaced|to retire|retires|retiring|to resign|"
    r"out(?=\s+(?:after|as|amid|over|in)\b|\s*[,;:]|\s*$)"
)
_TRIAL = (
    r"\b(?:phase|endpoints?|end points?|placebo|patients|drugs?|efficacy|therapy|treatment|dos(?:e|ing)|vaccines?|"
    r"cancer|clinical|pivotal|top-?line|statistical(?:ly)? significan\w+)\b"
)
_TRIAL_READOUT = rf"{_TRIAL}|\btrials?\b"  # "trial meets main goal"; a "scoping study" is no drug trial
_PRODUCT = r"(?:drugs?|vaccines?|treatments?|therapy|therapies|pills?|devices?|medicines?|injections?|implants?|tests?)"
# "after the company reported", "as it posted": what a Benzinga mover headline says before the result
_REPORTED = (
    r"(?:(?:after|as|following|on) (?:the company |the firm |it |co\.? )?(?:earlier )?(?:reported|posted|reports|posts|"
    r"announced|issued|delivered) |(?:reports?|reported|posts?|posted|delivers?|delivered) |)(?:an? |its )?"
    r"(?:(?:q[1-4]|[1-4]q|fy|quarterly|(?:first|second|third|fourth)[- ]quarter|full[- ]year) )?"
)
_RESULT_WORDS = (
    r"(?:results?|earnings|profits?|sales|revenues?|eps|quarter|numbers|figures|loss|income|margins?)"
)
_PERSON_VERBS = r"charged|indicted|convicted|arrested|pleads? guilty|pleaded guilty|sentenced|jailed"

_LEAD_RULES: tuple[_LeadRule, ...] = (
    # earnings: against estimates first (they decide when a headline also says "profit rises")
    _lead("earnings", -1, "miss",
          rf"(?:misses|missed|miss|lags|lagged|trails|trailed|falls? short of|fell short of|underperforms|"
          rf"disappoints|below|short of|misses on|lower than|weaker than|worse than)(?: [\w\-']+){{0,3}}? {_EST}|"
          rf"misses by (?:(?:\$|USD ?)[\d.]+|\d+ cents?)|misses on (?:revs|revenue|sales|earnings|eps|profit)|"
          rf"(?:earnings|profit|revenue|sales|eps) (?:miss|shortfall)",
          gap_veto=_GUIDE_WORDS_IN_GAP, unnamed_ok=True),
    _lead("earnings", 1, "beat",
          rf"(?:beats?|tops?|topped|exceeds?|exceeded|surpass(?:es|ed)?|outperforms?|outpaces?|crushes|smashes|"
          rf"above|ahead of|better than|stronger than)(?: [\w\-']+){{0,3}}? {_EST}|"
          rf"beats by (?:(?:\$|USD ?)[\d.]+|\d+ cents?)|beats on (?:revs|revenue|sales|earnings|eps|profit)|"
          rf"(?:earnings|profit|revenue|sales|eps) beat",
          gap_veto=_GUIDE_WORDS_IN_GAP, unnamed_ok=True),
    _lead("earnings", 0, "in_line",
          rf"(?:in[- ]?line with|meets|met|matches|matched)(?: [\w\-']+){{0,2}}? {_EST}",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    _lead("earnings", 1, "loss_narrows",
          r"(?:loss|losses) (?:narrows?|narrowed|shrinks?|shrank|eases?|eased)|(?:narrower|smaller) (?:[\w\-]+ )?loss",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    _lead("earnings", 1, "profit",
          r"(?:swings?|swung|returns?|returned|turns?|turned|back) to (?:an? )?(?:[\w\-]+ )?(?:profit|black)|"
          r"(?:posts?|posted|reports?|reported|books?|announces?)? ?record (?:[\w\-]+ ){0,2}?"
          r"(?:profits?|earnings|net income|results)|(?:posts?|posted|reports?|reported) (?:an? )?(?:[\w\-]+ ){0,2}?"
          r"(?:profit|gain|net income|net profit|earnings) (?:vs\.?|versus|from) (?:an? )?(?:[\w\-]+ ){0,2}?loss",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    _lead("earnings", -1, "loss",
          r"(?:swings?|swung|sinks?|sank|slumps?|slumped|falls?|fell|plunges?|plunged|turns?|turned|dives?|dived) "
          r"to (?:an? )?(?:[\w\-]+ )?loss|(?:posts?|posted|reports?|reported|books?|records?|suffers?|makes|made) "
          r"(?:an? |its )?(?:(?!vs\b|versus\b|from\b)[\w\-$.£€]+ ){0,3}?(?:loss|losses|deficit)|"
          r"(?:loss|losses) (?:widens?|widened|"
          r"deepens?|deepened|balloons?|swells?)|(?:wider|bigger|deeper|larger|surprise) (?:[\w\-]+ )?loss",
          gap_veto=_GUIDE_WORDS_IN_GAP + r"|\bnarrow|\bsmaller"),
    _lead("earnings", 1, "up",
          rf"(?:posts?|posted|reports?|reported|books?|announces?) (?:an? )?(?:[\w\-]+ )?(?:higher|bigger|stronger|"
          rf"better|increased|rising|improved)(?:-than-expected)? (?:[\w\-]+ ){{0,2}}?(?:{_METRIC}|results)|"
          rf"{_METRIC}{_NOT_GUIDE}(?: [\w\-]+)?? {_MOVE_UP}",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    _lead("earnings", -1, "down",
          rf"(?:posts?|posted|reports?|reported|books?|announces?) (?:an? )?(?:[\w\-]+ )?(?:lower|smaller|weaker|"
          rf"worse|reduced|falling|disappointing)(?:-than-expected)? (?:[\w\-]+ ){{0,2}}?(?:{_METRIC}|results)|"
          rf"{_METRIC}{_NOT_GUIDE}(?: [\w\-]+)?? {_MOVE_DOWN}",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    # "X shares are trading lower after the company reported worse-than-expected Q2 sales results"
    _lead("earnings", -1, "miss",
          rf"{_REPORTED}(?:worse|weaker|lower|softer|poorer)[- ]than[- ](?:expected|estimated|forecast)"
          rf"(?: [\w\-]+){{0,4}}? {_RESULT_WORDS}|(?:earnings|profit|revenue|sales|eps) misses",
          gap_veto=_GUIDE_WORDS_IN_GAP, max_gap=9),
    _lead("earnings", 1, "beat",
          rf"{_REPORTED}(?:better|stronger|higher)[- ]than[- ](?:expected|estimated|forecast)"
          rf"(?: [\w\-]+){{0,4}}? {_RESULT_WORDS}|(?:earnings|profit|revenue|sales|eps) beats",
          gap_veto=_GUIDE_WORDS_IN_GAP, max_gap=9),
    _lead("earnings", -1, "down",
          rf"(?:after|on|following) (?:(?:a |the |its |[\w\-]+ )?(?:disappointing|weak|dismal|poor) "
          rf"(?:[\w\-]+ ){{0,2}}?"
          rf"{_RESULT_WORDS})",
          gap_veto=_GUIDE_WORDS_IN_GAP),
    # writedowns and charges cost the quarter: "Merrill to write down $5.5 bln", "Monster to take $12.7 mln charge"
    _lead("earnings", -1, "writedown",
          r"(?:to |will )?(?:writes?|wrote|writing) (?:down|off)\b(?! (?:the )?(?:value of )?(?:its )?(?:stake|"
          r"investment) in)|write-?downs?|write-?offs?|(?:takes?|took|taking|to take|books?|booked|records?|recorded|"
          r"to record|flags?|flagged) (?:an? |another |further |its )?(?:[\w\-$.,£€]+ ){0,4}?"
          r"(?:charges?(?! (?:of|at|over|from)\b)|impairments?|write-?downs?|write-?offs?)|impairment charges?",
          gap_veto=r"\b(?:rumou?rs?|fears?|worr\w+|sees|expects?|probe|investigation|denies|could|may|might|more)\b",
          veto=r"\b(?:no|not|without|avoid\w*|reverses?|reversal)\b"),
    # guidance
    _lead("guidance", -1, "cut",
          rf"{_DOWN} (?:{_FILL}[ ,]+){{0,4}}?{_GUIDE}|profit warnings?|issues (?:an? |another |second |third )?"
          rf"(?:profit |earnings |sales )?warning|warns (?:on|of|over|about) (?:[\w\-'‘’]+ ){{0,3}}?"
          rf"(?:profits?|earnings|sales|results|revenues?|margins?|outlook|loss(?! of)|lower|weaker|"
          rf"q[1-4]|[1-4]q|(?:(?:first|second|third|fourth|\d(?:st|nd|rd|th))[- ])?(?:quarter|qtr|half)|"
          rf"h[12]|fy\s?\d*|full[- ]year|(?:19|20)\d\d|'0\d|(?:rev\w* |profit |sales )?shortfall)|"
          rf"(?:lowered|reduced|weak|weaker|disappointing|soft|downbeat|gloomy|bleak|cautious|"
          rf"dismal|lower|poor) (?:[\w\-]+ )?(?:guidance|outlook|forecast)|downside (?:[\w\-]+ ){{0,3}}?guidance|"
          rf"(?:can't|cannot|can not|unable to) (?:forecast|predict|give (?:an? )?(?:outlook|forecast|guidance))|"
          rf"(?:guides|sees) (?:[\w\-$.%]+ ){{0,4}}?to (?:the )?low(?:er)? end of|"
          rf"(?:forecast|outlook|guidance|view)s? (?:[\w\-]+ ){{0,2}}?(?:below|under|misses|short of|disappoints|"
          rf"lags|trails|weaker than)|(?:sees|forecasts?|predicts?|expects?|projects?|guides?) "
          rf"(?:[\w\-$.%]+,? ){{0,5}}?(?:below|under|short of|lower than|weaker than|shy of|beneath|behind) "
          rf"(?:[\w\-']+ ){{0,2}}?{_EST}|(?:sees|predicts?|expects?|forecasts?|flags?) (?:[\w\-]+ ){{0,2}}?"
          rf"(?:lower|weaker|smaller|reduced|falling|declining|worse) (?:[\w\-]+ ){{0,2}}?"
          rf"(?:profits?|earnings|sales|revenues?|results|margins?)|(?:sees|forecasts?|predicts?|expects?|warns of) "
          rf"(?:an? )?(?:(?!jobs? )[\w\-]+ ){{0,2}}?(?:loss|losses)",
          gap_veto=r"\brates?\s*$", unnamed_ok=True),
    _lead("guidance", 1, "raise",
          rf"{_UP} (?:{_FILL}[ ,]+){{0,4}}?{_GUIDE}|(?:raised|upbeat|strong|bullish|rosy|improved|higher|"
          rf"boosted|upgraded|robust|bright) (?:[\w\-]+ )?(?:guidance|outlook|forecast)|upside (?:[\w\-]+ ){{0,3}}?"
          rf"guidance|"
          rf"(?:guides|sees) (?:[\w\-$.%]+ ){{0,4}}?to (?:the )?(?:high|higher|upper|top) end of|"
          rf"(?:sees|forecasts?|predicts?|"
          rf"expects?|projects?|guides?) (?:[\w\-$.%]+,? ){{0,5}}?(?:above|ahead of|beating|topping|exceeding|"
          rf"higher than|stronger than|better than) (?:[\w\-']+ ){{0,2}}?{_EST}|(?:forecast|outlook|guidance|view)s? "
          rf"(?:[\w\-]+ ){{0,2}}?(?:above|tops|beats|exceeds|ahead of)(?: [\w\-']+){{0,2}}? {_EST}|"
          rf"(?:sees|predicts?|expects?|forecasts?|flags?) (?:[\w\-]+ ){{0,2}}?(?:higher|record|stronger|bigger|"
          rf"increased|rising|improved|better) (?:[\w\-]+ ){{0,2}}?(?:profits?|earnings|sales|revenues?|results)",
          unnamed_ok=True),
    _lead("guidance", 0, "reaffirm",
          rf"(?:reaffirms?|reaffirmed|affirms?|affirmed|reiterates?|reiterated|backs?|backed|confirms?|confirmed|"
          rf"maintains?|maintained|keeps?|kept|sticks? to|stands? by) (?:{_FILL}[ ,]+){{0,4}}?{_GUIDE}|"
          rf"(?:guides|issues|sees|reaffirms?|reiterates?|affirms?|confirms?) (?:[\w\-$.%]+ ){{0,4}}?"
          rf"(?:in[- ]?line|inline)(?! rating)|"
          rf"(?:reaffirms?|reiterates?|affirms?) (?:{_FILL} ){{1,4}}?(?:revs|eps|sales)|"
          rf"(?:{_FILL}[ ,]+){{0,3}}?(?:{_GUIDE}|full[- ]y(?:ea)?r) (?:is |remains? )?on track|"
          rf"on track to (?:meet|hit|achieve) "
          rf"(?:its )?(?:{_FILL} ){{0,3}}?{_GUIDE}",
          unnamed_ok=True),
    _lead("guidance", 0, "set",
          rf"(?:sets|gives|issues|provides|unveils|initiates|introduces|announces) (?:{_FILL}[ ,]+){{1,4}}?"
          rf"(?:outlook|guidance|forecasts?)"),
    # clinical trials: negative read-outs first
    _lead("clinical_trial", -1, "failed",
          r"did not (?:achieve|meet|reach|show|demonstrate|hit)|failed to (?:meet|achieve|show|reach|demonstrate|hit)|"
          r"fails? to (?:meet|achieve|show|reach|hit)|(?:misses|missed|fails|failed|not met) (?:on )?(?:the |its |a )?"
          r"(?:[\w\-]+ ){0,2}?(?:primary|main|key) (?:end ?points?|goals?|objectives?)|(?:trial|study) (?:fails|"
          r"failed|flops|flopped|halted|stopped|discontinued|terminated)|(?:halts|halted|stops|stopped|"
          r"discontinues|discontinued|terminates|terminated|suspends|suspended|ends|scraps|scrapped|abandons) "
          r"(?:[\w\-]+ ){0,4}?(?:trials?|study|studies|program|programme|development)|clinical hold|futility|"
          r"(?:fails|failed|flops|flopped) in (?:an? |its |the )?(?:[\w\-]+ ){0,3}?(?:trial|study)|"
          r"(?:drugs?|vaccines?|treatments?|therapy|pills?|medicines?) (?:fails|failed|flops|flopped)"
          r"(?! to (?:win|get|gain|secure|receive|obtain|sell|impress))(?! (?:fda|eu|regulat\w*|approval)\b)|"
          r"disappointing (?:[\w\-]+ ){0,2}?(?:study|trial) (?:data|results)|"
          r"(?:backs|backed|backing) away from (?:pursuing )?(?:an? )?(?:early|accelerated) approval",
          max_gap=None, needs=_TRIAL_READOUT + r"|\bstudy data\b"),
    _lead("clinical_trial", 1, "met",
          r"(?:met|meets|achieved|achieves|hits|hit|reached|reaches) (?:the |its |both |all |a |co-)?"
          r"(?:[\w\-]+ ){0,2}?(?:primary|main|key)(?:,? (?:and |& )?(?:[\w\-]+ ){0,2}?secondary)? "
          r"(?:end ?points?|goals?|objectives?)|"
          r"(?:shows?|showed|shown) (?:statistically )?significant (?:improvement|benefit|reduction)|"
          r"(?:shows?|showed|shown) (?:promise|hope|benefit|efficacy) in (?:an? |its |the )?(?:[\w\-]+ ){0,3}?"
          r"(?:trial|study)|positive "
          r"(?:top-?line |phase \w+ |interim |late-stage |pivotal |final |mid-stage |early-stage )*"
          r"(?:results|data|readout|read-out)|(?:trial|study) (?:succeeds|succeeded|meets|met|hits|positive)",
          max_gap=None, needs=_TRIAL_READOUT),
    # regulatory decisions that name the company first
    _lead("regulatory", -1, "rejection",
          r"complete response letter|CRL|warning letter|refuse[- ]to[- ]file|(?:fda|regulatory|eu|ema) "
          r"(?:rejection|rebuff|snub)|fails? to (?:win|get|secure) (?:[\w.\-]+ ){0,3}?(?:approval|clearance)",
          max_gap=8),
    _lead("regulatory", 1, "approval",
          r"(?:wins|won|gets|got|receives|received|secures|secured|obtains|obtained|gains|gained|granted|awarded|"
          r"nabs|lands|earns) (?:[\w.\-]+ ){0,4}?(?:fda|eu|ema|european|u\.s\.|us|ce|japanese|chinese|regulatory|"
          r"marketing|antitrust|ftc|ec|chmp|nmpa|fcc|doj|competition|health canada|pmda|sfda|cfda)"
          r"(?: [\w.\-]+){0,3}? (?:approvals?|clearance|nod|go-ahead|green light|authori[sz]ation|backing|mark|"
          r"ok|okay)"),
    # bankruptcy
    _lead("bankruptcy", -1, "",
          r"(?:files?|filed|filing|seeks?|sought|enters?|entered|goes|went|falls?|fell|placed|put|slides?|"
          r"collapses?|collapsed|heads?) (?:for |into |under |in )?(?:chapter (?:11|7|15)|bankruptcy|administration|"
          r"insolvency|receivership|liquidation|creditor protection)|(?:bankruptcy|insolvency|chapter 11) "
          r"(?:filing|protection|proceedings)|defaults? on|defaulted on|(?:missed|misses|skips|skipped) (?:an? |its )?"
          r"(?:[\w\-]+ )?(?:bond|debt|interest|coupon|loan) payments?|going[- ]concern|creditor protection|"
          r"(?:is|declared) insolvent|declares (?:insolvency|bankruptcy)|goes bankrupt|went bankrupt|"
          r"in administration|calls in administrators|appoints administrators|(?:in |holds |enters )?bankruptcy "
          r"talks|prepares? (?:to file )?for (?:bankruptcy|chapter 11)|on (?:the )?brink of (?:bankruptcy|collapse)",
          veto=r"\b(?:emerges?|emerged|emerging|exits?|exited|avoids?|avoided|averts?|averted|out of|rules? out|"
               r"denies|fends off|staves off|escapes?|escaped|rescued|saved)\b"),
    _lead("bankruptcy", -1, "",
          r"(?:defaults|defaulted|collapses|collapsed|goes bust|went bust|goes under|went under)"
          r"(?=\s*$|\s*[,;:(]|\s+[-–]\s|\s+(?:as|after|amid|with|leaving|owing|on (?:its |a |the )?(?:[\w\-]+ )?"
          r"(?:debt|bonds?|loans?|notes|payments?))\b)",
          max_gap=0, gap_veto=r"\S",
          veto=r"\b(?:shares?|stocks?|talks|deal|bid|merger|takeover|price|prices|market|sales|profits?|venture|"
               r"avert\w*|avoid\w*|near)\b"),
    _lead("bankruptcy", 1, "exit",
          r"(?:emerges?|emerged|exits?|exited|comes out of|came out of) (?:from )?(?:chapter 11|bankruptcy|"
          r"administration|creditor protection)|(?:wins|won|gets|got|receives|secures) (?:court |final )?"
          r"approval (?:for|of) (?:[\w$.,\-]+ ){0,5}?(?:bankruptcy|chapter 11|dip|exit) (?:financing|loan|"
          r"exit plan|plan|funding)", gap_veto=r"\b(?:expects?|path|aims?|hopes?|targets?|wants?)\b"),
    # legal: settlements first (their detail wins over the charge they settle)
    _lead("legal", -1, "settlement",
          r"settles|settled|to settle|agrees to settle|settlement|(?:to pay|pays|paid) (?:[\w$.,\-]+ ){0,6}?to "
          r"(?:settle|(?:end|resolve) (?:[\w.\-]+ ){0,4}?(?:lawsuits?|suits?|probes?|cases?|claims|charges|"
          r"investigations?|litigation|allegations))",
          max_gap=6,  # "Settlement of Debt Tender Offer" is no legal case
          veto=r"\bsettlement (?:of|date) (?:(?:its|the|debt|cash) )*(?:debt|tender|notes|bonds|trades?|offer)\b"),
    _lead("legal", -1, "",
          r"sued|is sued|being sued|faces? (?:[\w\-]+ ){0,3}?(?:lawsuits?|suits?|probes?|investigations?|inquiry|"
          r"inquiries|fines?|class actions?|scrutiny|penalt(?:y|ies)|allegations|antitrust)|under (?:[\w\-]+ ){0,2}?"
          r"(?:investigation|probe|scrutiny)|probed|investigated|fined|penali[sz]ed|sanctioned|raided|subpoenaed|"
          r"(?:to pay|pays|paid|agrees to pay|ordered to pay|must pay) (?:[\w\-$.,]+ ){0,4}?(?:fines?|penalt(?:y|ies)|"
          r"damages)|accused of|hit with (?:[\w\-$.]+ ){0,3}?(?:lawsuits?|suits?|fines?|charges|probe|penalty)|"
          r"(?:receives|gets|got|received) (?:an? )?(?:[\w\-]+ )?subpoenas?|(?:sec|doj|ftc|fbi|antitrust|criminal|"
          r"federal|fraud|bribery|accounting|eu|u\.s\.|us|cftc|regulatory) (?:[\w\-]+ )?(?:probe|investigation|"
          r"inquiry|lawsuit|suit|complaint)|fraud|class[- ]action|lawsuits?|bribery|(?:probe|investigation)s?",
          veto=r"\b(?:dismiss\w*|tosses|tossed|thrown out|acquit\w*|cleared|clears|overturn\w*|wins|won|drops|"
               r"dropped|rejects|rejected|ends|ended|closes|closed|files? (?:a |an )?(?:[\w\-]+ )?(?:lawsuit|suit)|"
               r"sues|launch\w*|opens|victims?)\b",
          gap_veto=r"\b(?:says|said|vows?|launch\w*|opens|orders|conducts|starts|begins|internal|own|calls?|"
                   r"welcomes?|seeks|wants|asks|urges|files|filed|wins|won|announces|reminds|notifies|alerts|"
                   r"encourages|investigat\w+|claims|reports?)\b"),
    _lead("legal", -1, "charges", _PERSON_VERBS + r"|faces? (?:[\w\-]+ ){0,2}?charges", corporate=True),
    # an accounting restatement admits misstated books: "Data Domain to restate results", "X restatement"
    _lead("legal", -1, "restatement",
          r"(?:to |will )?restat(?:e|es|ed|ing) (?:its |their |the |previously issued |prior |past |some |certain )*"
          r"(?:[\w\-,]+ ){0,5}?(?:results|earnings|financials?|financial statements|statements|accounts|figures|"
          r"profits?|revenues?|sales|books|10-[KQ]|annual report|quarters?|years?)|restatements?",
          gap_veto=r"\b(?:amended|no|not)\b",
          veto=r"\b(?:amended and restated|restated (?:and amended|credit|agreement|certificate|articles|bylaws)|"
               r"(?:no|not|without|avoids?) restat\w*|restates? (?:its )?(?:[\w\-]+ )?(?:outlook|guidance|forecast|"
               r"targets?|commitment|support|view|position))\b"),
    _lead("legal", -1, "lost",
          r"(?:loses|lost) (?:[\w.\-]+ ){0,3}?(?:lawsuit|court case|case|appeal|trial|verdict|court ruling|ruling|"
          r"legal battle|court battle|arbitration|suit)|hit with (?:[\w\-$.]+ ){0,4}?(?:verdict|judgment|judgement)",
          gap_veto=r"\b(?:union|tycoon|banker|trader|founder|chairman|executive|ceo|boss|workers?|employees?|staff|"
                   r"shareholders?|investors?|owner)\b"),
    _lead("legal", 1, "won",
          r"(?:wins|won) (?:[\w.\-]+ ){0,3}?(?:arbitration|lawsuit|court case|case|appeal|court ruling|ruling|verdict|"
          r"dismissal|legal battle|court battle)"),
    # incidents
    _lead("incident", -1, "",
          r"recalls?|recalled|recalling|explosions?|blast(?! furnace)|fire(?!\s+(?:sale|up|off|back))|accidents?|"
          r"outages?|"
          r"(?:data|security|cyber|privacy|customer data|email|credit card|card|it) breach(?:es)?|hacked|hackers|"
          r"cyber-?attacks?|cyber attacks?|ransomware|grounds (?:its |all |some )?(?:[\w\-]+ )?(?:fleet|planes|"
          r"jets|aircraft|flights)|grounded|(?:oil |chemical |toxic |fuel )?spills?|leak|derail(?:s|ed|ment)?|"
          r"mine collapse",
          gap_veto=r"\b(?:says|said|exit|restart\w*|returns?|unaffected|resumes?|ends?|penalt(?:y|ies)|fines?|"
                   r"lawsuits?|suits?|settles?|settlement)\b"),
    _lead("incident", -1, "suspension",
          r"(?:temporarily |voluntarily )?(?:suspends|suspended|halts|halted) (?:all |the )?"
          r"(?:[\w\-]+ ){0,2}?(?:marketing|sales|shipments|distribution)(?: of\b)?",
          max_gap=2, gap_veto=r"\b(?:resumes?|restarts?|share|shares|stock)\b",
          veto=r"\b(?:resum\w+|restart\w*|lifts?|share sales?|stake sales?|bond sales?|buyback|dividend)\b",
          needs=r"\b(?:drugs?|devices?|vaccines?|implants?|stents?|pills?|medicines?|products?|toys?|safety|defect\w*|"
                r"contaminat\w*|lead|impurit\w*|deaths?|risks?|injur\w*|problems?|faults?|fda|marketing)\b"),
    _lead("incident", -1, "crash", r"crash(?:es|ed)?(?![- ]tests?)|plane crash|jet crash",
          gap_veto=r"\b(?:shares?|stocks?|market|price|prices|sales|profit|earnings|says|said)\b"),
    # layoffs
    _lead("layoffs", -1, "",
          r"(?:to |will )?(?:cut|cuts|cutting|slash(?:es|ing)?|shed(?:s|ding)?|axe(?:s|ing)?|eliminat(?:e|es|ing)|"
          r"lay(?:s|ing)? off|laid off|trim(?:s|ming)?|reduc(?:e|es|ing)) (?:about |around |some |up to |nearly |"
          r"almost |more than |over |another |a further |roughly |its |\d[\d,.]*\s?(?:%|percent|pct|per cent) of "
          r"(?:its )?|an? (?:third|quarter|fifth|tenth|half) of (?:its )?)?(?:[\d,.]+(?: , \d{3})?"
          r"(?:\s?(?:thousand|hundred|k))? )?(?:(?!on |for |to |at |in |of |with )[\w\-]+ ){0,2}?"
          r"(?:jobs|workers|employees|staff|"
          r"positions|roles|workforce|headcount|people|posts|managers)|job (?:cuts|losses|reductions)|layoffs|"
          r"lay-offs|redundancies|(?:plant|factory|store|mill|branch|site|mine) closures?|(?:to |will )?(?:close|"
          r"closes|closing|shut|shuts|shutting) (?:down )?(?:its |the |about |up to |some |another |[\d,]+ |"
          r"[\w\-]+ ){0,3}?(?:stores|plants|factories|branches|mills|outlets|restaurants|shops|plant|factory|"
          r"mill|mines|offices)|(?:[\d,.]+(?: , \d{3})? |hundreds of |thousands of )?(?:jobs|roles|positions|posts) "
          r"(?:at risk|under threat|to go|in doubt)(?! (?:if|of|unless)\b)"),
    # executive departures (the gap names the officer: checked by _departure_gap_ok)
    _lead("executive_departure", -1, "", _DEPART, max_gap=8),
    _lead("executive_departure", -1, "ousted",
          rf"(?:ousts|ousted|fires|sacks|dismisses|removes|replaces|axes|dumps) (?:its |their |the )?"
          rf"(?:embattled |longtime |founder |co-founder |top )?(?:{_TITLES}|chief (?:executive|financial|operating)"
          rf"(?: officer)?)(?! (?:of|for|at)\b)(?![\w\-])", max_gap=2),
    _lead("executive_departure", -1, "announced",
          rf"(?:announces|confirms|reports) (?:the )?(?:resignation|departure|retirement|ouster) of (?:its )?"
          rf"(?:[A-Z][\w'’\-.]+ ){{0,3}}(?:as )?(?:{_TITLES}|chief (?:executive|financial|operating))", max_gap=2),
    _lead("executive_departure", -1, "",
          rf"[,;] (?:its )?(?:{_TITLES}|chief executive)(?: [A-Z][\w'’\-.]+){{0,3}} (?:{_DEPART})", max_gap=None),
    # dividends
    _lead("dividend", 1, "raise",
          rf"{_UP} (?:its |the )?(?:[\w\-]+ ){{0,3}}?(?:dividends?|payouts?|distributions?)|dividend (?:hike|"
          r"increase|raise|boost|rises|up)",
          unnamed_ok=True),
    _lead("dividend", 1, "special",
          r"(?:special|one-off|one-time|extra|extraordinary|bumper|record) (?:cash )?dividends?", max_gap=12,
          unnamed_ok=True),
    _lead("dividend", -1, "cut",
          r"(?:cuts?|slashes|slashed|suspends?|suspended|omits?|omitted|eliminates?|eliminated|scraps?|scrapped|"
          r"halts?|halted|reduces?|reduced|axes|axed|skips?|skipped|cancels?|cancelled|canceled|drops|dropped|"
          r"lowers?|lowered|cutting|suspending|slashing|scrapping|halting|passes on) (?:its |the )?(?:[\w\-]+ ){0,3}?"
          r"(?:dividends?|payouts?)|dividend (?:cut|suspension|slashed|halted|scrapped)|"
          r"no (?:final |interim )?dividend",
          unnamed_ok=True),
)

# share moves: "Acadia Shares Fall 15% Premarket", "New Century sees surprise loss, shares sink 17 pct"
_SHARES = (
    r"(?:(?:IPO|ADS|ADR|Class [AB]|common|its) )?(?:shares|stock|ADSs?|ADRs?|share price|stock price)"
    r"(?: (?:are|is|was|were|have|has))?"
    r"(?: (?:trading|trade|trades|traded|open|opened|opens|moving|set to|seen|indicated))?"
)
_SHARES_DOWN = (
    r"falls?|fell|falling|drops?|dropped|dropping|slumps?|slumped|sinks?|sank|sinking|plunges?|plunged|plunging|"
    r"tumbles?|tumbled|tumbling|dives?|dived|dove|slides?|slid|sliding|crash(?:es|ed)?|plummets?|plummeted|"
    r"tanks?|tanked|collapses?|collapsed|slips?|slipped|sags?|sagged|retreats?|retreated|declines?|declined|lower|down|weaker|"
    r"hurting|hurt by|hit by|hit hard|takes? (?:a )?(?:hit|beating|battering|knock)|took (?:a )?(?:hit|beating)|"
    r"hammered|battered|pummel(?:l)?ed|under pressure|crater(?:s|ed)?|nosedives?"
)
_SHARES_UP = (
    r"rises?|rose|rising|jumps?|jumped|jumping|soars?|soared|soaring|surges?|surged|surging|rall(?:y|ies|ied)|"
    r"climbs?|climbed|gains?|gained|leaps?|leapt|leaped|spikes?|spiked|rockets?|rocketed|skyrockets?|"
    r"skyrocketed|higher|up|pops?|popped|shoot up|shot up"
)
# the last word before "shares" is another company's ("Motorola warns, Nokia shares fall"), not the subject's
_OTHER_NAME_BEFORE_SHARES = re.compile(r"(?<![\w])(?!(?:IPO|ADS|ADR|Class|[AB])\b)[A-Z][\w&'’.\-]*\s*$")
_MOVE_PCT = re.compile(r"[^.;:%]{0,24}?(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?(?:%|pct\b|percent\b|per cent\b)")
_SHARES_LOW = r"(?:hits?|at|touch(?:es)?|sinks? to|falls? to) (?:an? |its )?(?:new |record |all-time |[\w\-]+ )?lows?"
_SHARES_HIGH = (
    r"(?:hits?|at|touch(?:es)?|rises? to|climbs? to) (?:an? |its )?(?:new |record |all-time |[\w\-]+ )?highs?"
)
_FALL_VETO = r"\b(?:hit|at|to) (?:an? )?(?:new |record |all-time |\d+-\w+ )?highs?\b|\boffering\b"
_RISE_VETO = r"\blows?\b(?! (?:cost|price))|\boffering\b"


def _share_move_rules(polarity: int, detail: str, verbs: str, veto: str) -> tuple[_LeadRule, ...]:
    """Right after the company ("Acadia Shares Fall 15%"), or as the headline's last clause after a longer
    one ("AbbVie halts enrollment after brain cancer trial misses goal , shares fall")."""
    trigger = rf"{_SHARES} (?:{verbs})"
    return (_lead("share_move", polarity, detail, trigger, gap_veto=_OTHER_NAME_BEFORE_SHARES, veto=veto),
            _lead("share_move", polarity, detail, rf"(?<=[,;] ){trigger}", max_gap=12,
                  gap_veto=_OTHER_NAME_BEFORE_SHARES, veto=veto))


_SHARE_MOVE_RULES: tuple[_LeadRule, ...] = (
    *_share_move_rules(-1, "fall", f"{_SHARES_DOWN}|{_SHARES_LOW}", _FALL_VETO),
    *_share_move_rules(1, "rise", f"(?:{_SHARES_UP})(?! (?:for grabs|to \\$))|{_SHARES_HIGH}", _RISE_VETO),
)


def _move_detail(rule: _LeadRule, text: str, match: re.Match[str]) -> str:
    """'plunge' / 'soar' where the text states a move of SHARP_MOVE_PCT or more right after the verb."""
    stated = _MOVE_PCT.match(text, match.end())
    if stated is None or float(stated.group(1)) < SHARP_MOVE_PCT:
        return rule.detail
    return "plunge" if rule.polarity < 0 else "soar"


_NEGATED_AFTER = _rx(r"(?:\s+\S+){0,3}?\s+(?:not|no|unlikely|unrelated|denied|false|ruled out)\b")
# "fraud at Wirecard", "probe into JP Morgan": the noun is about another company
_OTHER_COMPANY_AFTER = re.compile(r"\s+(?i:at|into|of|against|involving|on|over|in)\s+(?:[a-z\-]+\s+)?[A-Z]")
_EARNINGS_VETO = _rx(r"\b(?:preview|to report|will report|set to report|what to expect|ahead of (?:earnings|results)|"
                     r"earnings scheduled|before (?:earnings|results))\b")
_UNNAMED_START = re.compile(r"(?i:shares|stock|the company|company)\b(?! (?i:of|in|across)\b)")


def _starts_trigger(text: str, position: int) -> bool:
    """Whether a lead trigger starts here (ends a Title Case company run: 'Raytheon Beats ...')."""
    return any(rule.trigger.match(text, position) for rule in _LEAD_RULES + _SHARE_MOVE_RULES
               if rule.max_gap is not None)


_DEPARTURE_GAP = re.compile(
    rf"(?:{_POSS})?(?: (?:says|said))?(?: (?:its|the|former|ex-|outgoing|embattled|longtime|top|interim|co-founder|"
    rf"founder|chief|executive|officer|operating|financial|technology|finance|{_TITLES}|[A-Z][\w'’\-.]+)){{0,6}} ?",
    re.IGNORECASE,
)


_WEAK_DEPARTURE = re.compile(r"(?:to )?(?:leaves?|leaving|exits?|departs?|departed|go|out|replaced)\b", re.IGNORECASE)


def _departure_gap_ok(gap: str, verb: str) -> bool:
    """'X CEO Smith', "X's Ghosn", 'X says chief executive': only a title and a name between company and verb.

    A possessive alone ("X's Ghosn arrested") names an officer only with a strong verb: "Ackman's Pershing
    Square exits Starbucks" is an investor selling, not an executive leaving.
    """
    title = re.search(rf"\b{_TITLES}\b|\bchief executive\b", gap, re.IGNORECASE)
    if not (title or (re.match(_POSS, gap.strip()) and not _WEAK_DEPARTURE.match(verb))):
        return False
    lowercase = [w for w in gap.split() if w[:1].islower()]
    allowed = {"says", "said", "its", "the", "former", "ex-", "outgoing", "embattled", "longtime", "top", "interim",
               "co-founder", "founder", "chief", "executive", "officer", "operating", "financial", "technology",
               "finance", "boss", "head", "chairman", "chairwoman", "president", "director"}
    return bool(_DEPARTURE_GAP.fullmatch(gap)) and all(w in allowed for w in lowercase)


def _lead_rule_fires(rule: _LeadRule, text: str, subject_end: int) -> re.Match[str] | None:
    if (rule.needs and not rule.needs.search(text)) or (rule.veto and rule.veto.search(text)):
        return None
    if rule.type == "earnings" and _EARNINGS_VETO.search(text):
        return None
    match = rule.trigger.search(text, subject_end)
    if match is None:
        return None
    gap = text[subject_end:match.start()]
    if rule.gap_veto and rule.gap_veto.search(gap):
        return None
    if _NEGATED_AFTER.match(text, match.end()):
        return None
    if rule.type in ("legal", "incident", "bankruptcy") and rule.polarity < 0 \
            and _OTHER_COMPANY_AFTER.match(text, match.end()):
        return None
    if rule.type == "executive_departure" and rule.detail not in ("announced", "ousted") and rule.max_gap is not None:
        return match if _departure_gap_ok(gap, match.group(0)) else None
    if rule.max_gap is not None and not _clauses_ok(gap, rule.max_gap):
        return None
    return match


def _has_corporate_word(name: str) -> bool:
    return bool(_CORPORATE_WORDS.search(name))


def _lead_events(text: str) -> list[_Found]:
    """Events whose subject is the company the headline starts with (or an unnamed 'Shares ...' subject)."""
    leading = leading_company(text)
    begin = strip_prefix(text)
    if leading is not None:
        subject: tuple[int, int] | None = (leading[1], leading[2])
        subject_end = leading[2]
    else:
        subject = None
        unnamed = _UNNAMED_START.match(text, begin)
        subject_end = unnamed.end() if unnamed else begin
        if unnamed is None and _leading_run(text) is not None:
            return []
    partner = _partner(text, subject_end) if subject is not None else None
    if partner is not None:
        subject_end = partner[1]
    found = []
    for rule in _LEAD_RULES + _SHARE_MOVE_RULES:
        if rule.type == "share_move" and subject is None:
            continue  # "Shares fall after profit warning": whose?
        if subject is None and (rule.max_gap is None or not (rule.unnamed_ok or subject_end > begin)):
            continue
        if rule.corporate and (subject is None or not _has_corporate_word(text[subject[0]:subject[1]])):
            continue
        if rule.type == "executive_departure" and subject is None:
            continue
        match = _lead_rule_fires(rule, text, subject_end)
        if subject is None and match is not None and text.startswith("Top ", match.start()):
            continue  # "Top Wall Street banks ...": an adjective, not "tops Wall Street"
        if match is not None and (subject is not None or subject_end > begin or match.start() == begin):
            detail = _move_detail(rule, text, match) if rule.type == "share_move" else rule.detail
            found.append(_event(text, rule.type, rule.polarity, subject, detail, position=match.start()))
            if partner is not None:
                found.append(_event(text, rule.type, rule.polarity, partner, detail))
    return _mixed_quarter(found)


_PARTNER = re.compile(rf"(?:,| and) (?P<subj>{_NAME}) (?=(?i:say|said|report|announce)\b)")


def _partner(text: str, subject_end: int) -> tuple[int, int] | None:
    """The second company of a joint statement: 'Biogen, PDL BioPharma say ...' -> PDL BioPharma."""
    match = _PARTNER.match(text, subject_end)
    return _company_span(text, match, "subj") if match else None


def _mixed_quarter(found: list[_Found]) -> list[_Found]:
    """'Beats by $0.05, misses on revs', 'guides EPS above consensus, revs below': both ways is mixed (0)."""
    for event_type, both in (("earnings", {"beat", "miss"}), ("guidance", {"raise", "cut"})):
        if not both <= {item.event.detail for item in found if item.event.type == event_type}:
            continue
        first = next(item for item in found if item.event.type == event_type)
        mixed = _Found(first.position, replace(first.event, polarity=0, detail="mixed"))
        found = [mixed if item is first else item for item in found if item.event.type != event_type or item is first]
    return found


# --------------------------------------------------------------------------------------------------
# Analyst actions: "Barclays Maintains Overweight on Agilent, Raises Price Target to $83"
# --------------------------------------------------------------------------------------------------

_RATING_POLARITY: dict[str, int] = {
    **dict.fromkeys(
        "strong buy|conviction buy|speculative buy|long-term buy|moderate buy|market outperform|sector outperform|"
        "outperformer|outperform|overweight|market overweight|accumulate|positive|buy|add|top pick|above average"
        .split("|"), 1),
    **dict.fromkeys(
        "strong sell|moderate sell|market underperform|sector underperform|underperform|underweight|"
        "market underweight|reduce|negative|sell|below average".split("|"), -1),
    **dict.fromkeys(
        "market perform|market weight|sector perform|sector weight|equal-weight|equal weight|equalweight|in-line|"
        "in line|inline|peer perform|mkt perform|perform|neutral|hold|average".split("|"), 0),
}
_RATING_WORDS = "|".join(sorted((re.escape(k).replace(r"\ ", "[- ]").replace(r"\-", "[- ]?")
                                 for k in _RATING_POLARITY), key=len, reverse=True))


_ANY_RATING = re.compile(rf"(?<![\w-])(?i:{_RATING_WORDS})(?![\w-])")


def _rating(group: str) -> str:
    return rf"(?:(?i:an?|its) )?[\"'‘]?(?P<{group}>(?i:{_RATING_WORDS}))(?![\w-])[\"'’]?(?: (?i:rating))?"


_PT = r"(?i:price targets?|pts?|targets?|tgts?|target prices?|price objectives?|pos?)"
_PT_UP = r"(?i:raises|raised|increases|increased|boosts|boosted|lifts|lifted|ups|upped|hikes|hiked|bumps(?: up)?)"
_PT_DOWN = r"(?i:lowers|lowered|cuts|cut|slashes|slashed|trims|trimmed|reduces|reduced)"
_PT_VERB = rf"(?P<verb>{_PT_UP}|{_PT_DOWN})"
_PT_VERB_PASSIVE = r"(?P<verb>(?i:raised|lowered|cut|increased|boosted|trimmed|reduced|upped|lifted|slashed))"
_MONEY = r"(?:\$|USD ?|C\$|£|€)?[\d,.]+"
_END_A = r"(?=\s*(?:[,;:(]|-\s|–\s|$)|\s+(?i:for|in|from|at|with|after|as|amid|on|to|by|and|ahead|citing|" \
         r"following|" \
         r"says|said|shares|stock|notes|price|pt|target|tgt|over|due|despite|saying|sees)\b)"
_ADVERB = r"(?: (?i:earlier|also|now|again))?"


@dataclass(frozen=True)
class _AnalystPattern:
    """One headline shape of an analyst action; `kind` says how the event type is decided."""

    kind: str  # "updown" | "updown_passive" | "maintain" | "initiate" | "pt" | "credit"
    pattern: re.Pattern[str]
    needs_known_broker: bool = False


_ANALYST_PATTERNS: tuple[_AnalystPattern, ...] = (
    _AnalystPattern("initiate", re.compile(
        rf"{_SRC}{_ADVERB} (?i:initiates|initiated|starts|started|resumes|resumed|reinstates|reinstated|assumes|"
        rf"assumed|begins|launches|picks up)(?: (?i:research))? (?i:coverage) (?i:on|of|at) {_SUBJ} (?i:at|with|to) "
        rf"{_rating('rating')}")),
    _AnalystPattern("initiate", re.compile(
        rf"{_SRC}{_ADVERB} (?i:initiates|initiated|starts|started|begins) {_SUBJ} (?i:at|with) {_rating('rating')}")),
    _AnalystPattern("initiate", re.compile(
        rf"{_SRC}{_ADVERB} (?i:initiates|initiated) {_rating('rating')} (?i:on) {_SUBJ}{_END_A}")),
    _AnalystPattern("initiate", re.compile(  # no rating stated: polarity 0
        rf"{_SRC}{_ADVERB} (?i:initiates|initiated|starts|started)(?: (?i:coverage) (?i:on|of))? {_SUBJ}"
        rf"(?=\s*(?:[,;(]|$))"), needs_known_broker=True),
    _AnalystPattern("updown", re.compile(
        rf"{_SRC}{_ADVERB} (?P<verb>(?i:upgrades|downgrades|upgraded|downgraded)) {_SUBJ}"
        rf"(?:{_POSS}? (?i:stock|shares))?"
        rf"(?: (?i:from) {_rating('rating_from')})?(?: (?i:to) {_rating('rating')})?{_END_A}")),
    _AnalystPattern("updown", re.compile(
        rf"{_SRC}{_ADVERB} (?P<verb>(?i:cuts|raises|lowers|lifts|ups)) {_SUBJ}(?: (?i:from) {_rating('rating_from')})?"
        rf" (?i:to) {_rating('rating')}")),
    _AnalystPattern("updown_passive", re.compile(
        rf"{_SUBJ} (?P<verb>(?i:upgraded|downgraded|cut|raised|lowered|lifted|upped))"
        rf"(?: (?i:from) {_rating('rating_from')})?(?: (?i:to) {_rating('rating')})?"
        rf"(?: (?i:from) {_rating('rating_from2')})? (?i:at|by) {_SRC}{_END_A}")),
    _AnalystPattern("updown_passive", re.compile(
        rf"(?P<src>)?{_SUBJ} (?P<verb>(?i:upgraded|downgraded)) (?i:to) {_rating('rating')}"
        rf"(?: (?i:from) {_rating('rating_from')})?(?=\s*(?:[,;(]|$))")),
    _AnalystPattern("maintain", re.compile(
        rf"{_SRC}{_ADVERB} (?P<verb>(?i:maintains|maintained|reiterates|reiterated|reaffirms|reaffirmed|keeps|"
        rf"retains|affirms|affirmed)) {_rating('rating')},?(?: {_MONEY}(?: {_PT})?,?)? (?i:on|for) {_SUBJ}{_END_A}")),
    _AnalystPattern("maintain", re.compile(
        rf"{_SRC}{_ADVERB} (?P<verb>(?i:maintains|maintained|reiterates|reiterated|reaffirms|keeps|retains|affirms)) "
        rf"{_SUBJ} (?i:at|with|as) {_rating('rating')}")),
    _AnalystPattern("maintain", re.compile(
        rf"{_SRC}{_ADVERB} (?P<verb>(?i:maintains|reiterates|reiterated)) (?i:on|coverage on) {_SUBJ}{_END_A}"),
        needs_known_broker=True),
    _AnalystPattern("pt", re.compile(
        rf"{_SRC}{_ADVERB} {_PT_VERB}(?: (?i:eps estimates|estimates|eps) (?i:and|&))? {_PT} (?i:on|for|of) "
        rf"{_SUBJ}{_END_A}")),
    _AnalystPattern("pt", re.compile(
        rf"{_SRC}{_ADVERB} {_PT_VERB} {_SUBJ}{_POSS}? (?:(?i:share|stock|base) )?{_PT}(?![\w])"),
        needs_known_broker=True),
    _AnalystPattern("pt", re.compile(
        rf"{_SUBJ}{_POSS}? {_PT} {_PT_VERB_PASSIVE}(?: (?i:to) {_MONEY})?(?: (?i:from) {_MONEY})? (?i:at|by) "
        rf"{_SRC}{_END_A}")),
    _AnalystPattern("credit", re.compile(
        rf"{_SRC} (?P<verb>(?i:cuts|lowers|downgrades|raises|upgrades|lifts)) {_SUBJ}{_POSS}? "
        rf"(?:[a-z\-]+ ){{0,3}}(?i:ratings?)(?![\w])"), needs_known_broker=True),
)

_PT_CLAUSE = re.compile(
    rf"(?<![\w])(?:{_PT_VERB} (?:(?i:the|its|their) )?{_PT}|{_PT} {_PT_VERB_PASSIVE.replace('<verb>', '<verb2>')})"
    rf"(?![\w])"
    rf"(?P<tail>(?: (?i:on \S+(?: \S+)?))?(?: (?i:from) (?P<from>{_MONEY}))?(?: (?i:to) (?P<to>{_MONEY}))?)"
)
_ANALYST_WORDS = _rx(r"\b(?:price target|pt|target|rating|upgrades?|downgrades?|upgraded|downgraded|coverage|"
                     r"outperform|underperform|overweight|underweight|initiates?|reiterates?|maintains?|"
                     r"(?:raises|cuts|lowers|lifts|trims|ups|boosts|reduces) (?:[\w\-]+ ){0,3}?estimates?)\b")
_NON_BROKER_SOURCES = frozenset({"analyst", "analysts", "brokerages", "brokers"})


def _verb_direction(verb: str) -> int:
    """+1 for a raise or upgrade, -1 for a cut or downgrade."""
    low = verb.lower()
    return 1 if low.startswith(("up", "rais", "increas", "boost", "lift", "hik", "bump")) else -1


def _broker_span(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """The broker as written, or None for 'Analyst'/'Brokerages'; raises ValueError when not a broker name."""
    start, end = match.start("src"), match.end("src")
    if start < 0 or start == end:
        return None  # "Aaron's Upgraded to Long-term Buy": no broker named
    while end > start and text[end - 1] in "-–,;:":
        end -= 1
    name = text[start:end]
    if name.lower() in _NON_BROKER_SOURCES:
        return None
    if _is_known_broker(name):
        return start, end
    if re.search(r"['’]s ", name) or not is_company_name(name):
        raise ValueError(name)
    return start, end


def _analyst_type(kind: str, match: re.Match[str]) -> tuple[str, int] | None:
    """(event type, polarity) of one analyst headline shape; None when the wording decides nothing."""
    groups = match.groupdict()
    rating = (groups.get("rating") or "").lower().replace("-", " ")
    rating_polarity = _RATING_POLARITY.get(rating, _RATING_POLARITY.get(rating.replace(" ", "-")))
    if kind == "initiate" and groups.get("rating") is None:
        return "rating_initiate", 0  # "JP Morgan initiates ShoreTel": no rating stated
    if kind == "initiate":
        return ("rating_initiate", rating_polarity) if rating_polarity is not None else None
    if kind == "maintain":
        return "rating_maintain", 0
    direction = _verb_direction(groups["verb"])
    if kind == "pt":
        return ("price_target_raise", 1) if direction > 0 else ("price_target_cut", -1)
    return ("rating_upgrade", 1) if direction > 0 else ("rating_downgrade", -1)


def _analyst_match(text: str, begin: int) -> tuple[_AnalystPattern, re.Match[str]] | None:
    for analyst in _ANALYST_PATTERNS:
        match = analyst.pattern.match(text, begin)
        if match is None:
            continue
        known = _is_known_broker(text[match.start("src"):match.end("src")].rstrip("-–,;:"))
        if analyst.needs_known_broker and not known:
            continue
        verb = (match.groupdict().get("verb") or "").lower()
        has_rating = match.groupdict().get("rating") is not None
        if analyst.kind == "updown_passive" and verb not in ("upgraded", "downgraded") and not has_rating:
            continue
        if analyst.kind == "updown" and not (has_rating or known):
            continue
        if analyst.kind == "initiate" and not has_rating and _ANY_RATING.search(text, match.end()):
            continue  # "Initiates Coverage on X (Holding Co) at Buy": the rating is there, past the name
        return analyst, match
    return None


def _pt_clause_event(text: str, after: int, subject: tuple[int, int], source: tuple[int, int] | None) -> list[_Found]:
    """The price-target clause that follows a rating action ('..., Raises Price Target to $83')."""
    clause = _PT_CLAUSE.search(text, after)
    if clause is None:
        return []
    direction = _verb_direction(clause.group("verb") or clause.group("verb2"))
    low, high = (_money(clause.group("from")), _money(clause.group("to")))
    if low is not None and high is not None and (high - low) * direction < 0:
        return []  # "Lowers PT from $57 to $78": the figures contradict the verb
    event_type = "price_target_raise" if direction > 0 else "price_target_cut"
    return [_event(text, event_type, direction, subject, "", source)]


def _money(value: str | None) -> float | None:
    if not value:
        return None
    digits = re.sub(r"[^\d.]", "", value).strip(".")
    try:
        return float(digits)
    except ValueError:
        return None


def _analyst_events(text: str) -> list[_Found]:
    """Rating and price-target actions; the broker is the source and never the subject."""
    found = _analyst_match(text, strip_prefix(text))
    if found is None:
        return []
    analyst, match = found
    try:
        source = _broker_span(text, match)
    except ValueError:
        return []
    subject = _company_span(text, match, "subj")
    typed = _analyst_type(analyst.kind, match)
    if subject is None or typed is None:
        return []
    if source is not None and text[subject[0]:subject[1]].lower() == text[source[0]:source[1]].lower():
        return []
    events = [_event(text, typed[0], typed[1], subject, "", source)]
    if analyst.kind != "pt":
        events += _pt_clause_event(text, match.end(), subject, source)
    return events


# --------------------------------------------------------------------------------------------------
# Mergers and acquisitions: the acquirer (0), the target (+1) and the seller of a unit (0)
# --------------------------------------------------------------------------------------------------

_PLACE_POSS = r"(?:[A-Z][\w.\-]*['’]s )?"  # "Chile's Cornershop": the place is trimmed off later
_ACQ = rf"(?P<acq>{_PLACE_POSS}{_NAME})(?: (?i:unit|arm|subsidiary))?"  # "AIG unit to buy ..." -> AIG
_TGT = rf"(?P<tgt>{_PLACE_POSS}{_NAME})"
_BIG = r"(?:[\w$.,\-]+ ){0,6}?"
_TALKS = (
    r"(?P<talks>(?i:(?:is )?in (?:advanced |final |exclusive |early )?talks to|nears (?:a )?deal to|"
    r"(?:is )?close to (?:a )?deal to|in bid to) )"
)
_BUY_VERB = (
    rf"(?i:(?:says |said |confirms |confirmed )(?:(?:that )?it )?)?"
    rf"(?:{_TALKS}(?i:buy|acquire|purchase|take over|buy out)|"
    rf"(?i:(?:agrees? to|has agreed to|will|to|set to|offers to|proposes to|signs (?:an? )?(?:definitive )?(?:deal|"
    rf"agreements?) to|announces (?:an? )?(?:definitive )?(?:deal|agreement) to|enters into (?:an? )?(?:definitive )?"
    rf"(?:merger )?agreement to|reaches (?:an? )?(?:definitive )?(?:deal|agreement) to|in deal to|moves to|"
    rf"makes {_BIG}(?:offer|bid) to|extends (?:its )?(?:tender )?offer to) "
    rf"(?:buy|acquire|purchase|take over|buy out)|buys|acquires|bought|acquired|snaps up|takes over|buys out|"
    rf"(?:completes|closes|completed|closed) (?:the |its )?(?:acquisition|purchase|takeover) of|"
    rf"(?:bids|bid) for|makes {_BIG}(?:bid|offer|approach) for|launches {_BIG}(?:bid|offer) for|"
    rf"(?:wins|clinches|seals) {_BIG}(?:takeover|acquisition|bid|deal) (?:of|for))|"
    rf"(?P<talks2>(?i:(?:is )?close to (?:buying|acquiring)|nears (?:a )?deal (?:for|to buy)|"
    rf"(?:is )?in (?:advanced |final |exclusive )?talks (?:to buy|for|over))))"
)
_STAKE = (
    r"(?:(?i:(?:an? |\d[\d.,]*\s?(?:%|pct|percent|per cent) |(?:majority|minority|controlling|remaining|further|"
    r"additional|small|big|large|significant|strategic|\d[\d.,]*\s?(?:%|pct|percent|per cent)) )*(?:stake|interest|"
    r"holding) in) )?"
)
# What a buyer buys when it is not a named company: "battery tech maker", "Diageo brewery", "GE's hydro business".
_FIRM_NOUN = (
    r"(?:maker|manufacturer|producer|provider|firm|company|group|developer|operator|chain|retailer|lender|insurer|"
    r"bank|brewer|distributor|supplier|specialist|start-?up|rival|designer|publisher|carrier|airline|miner|refiner|"
    r"platform|service|agency|brokerage|manager|utility|builder)s?"
)
_UNIT_NOUN = r"(?:units?|business|businesses|divisions?|arm|operations|ops|subsidiary|subsidiaries|stakes|portfolio)"
# an asset of a named company ("Diageo brewery") is not a takeover of it; a bare asset sale is no deal at all
_ASSET_NOUN = r"(?:brewery|breweries|franchises?|brands?)"
_LOWER = r"(?:(?!(?:from|for|to|in|on|at|with|by|as|of|and|or|back|more|its|their)\b)[a-z][\w\-]* )"
_DESC = rf"(?:(?:[A-Z][\w.]*|U\s?\.\s?S\s?\.) )?{_LOWER}{{0,3}}{_FIRM_NOUN} "  # "(Japan) cosmetics firm Ci : z"
_TGT_END = r"(?=\s*(?:[,;:(]|-\s|–\s|$)|\s+(?i:for|in|at|with|worth|valued|after|as|amid|on|to|says|said|deal|" \
           r"from|cash|stock|shares|in)\b)"
_OBJECT = (
    rf"(?:(?:{_DESC})?{_TGT}(?:(?P<unit>(?:{_POSS})? {_LOWER}{{0,3}}(?:{_UNIT_NOUN}|{_ASSET_NOUN})|{_POSS} [a-z])|"
    rf"(?P<trade> {_LOWER}{{0,2}}?(?i:stake|{_FIRM_NOUN}))?(?![\w])(?=\W|$){_TGT_END}|(?= (?i:stake|{_FIRM_NOUN})\b))|"
    rf"(?:an? |the )?{_LOWER}{{0,4}}?(?:{_FIRM_NOUN}|{_UNIT_NOUN})(?![\w\-])(?! [a-z][a-z\-]*s\b))"
)
_MERGE_WORDS = r"(?i:to merge|agree to merge|agree merger|merge|complete merger|sign merger|confirm merger|" \
               rf"announce {_BIG}merger|in {_BIG}merger deal|unveil {_BIG}merger|agree {_BIG}merger)"

_ACQUIRE = re.compile(rf"{_ACQ} {_BUY_VERB} {_STAKE}{_OBJECT}")
_ACQUIRED_BY = re.compile(
    rf"{_TGT} (?i:to be (?:acquired|bought|taken over|purchased) by|agrees to be (?:acquired|bought|taken over) by|"
    rf"acquired by|bought by|to sell itself to|agrees to sell itself to|sells itself to|accepts {_BIG}(?:bid|offer) "
    rf"from|agrees to takeover by|agrees to (?:a )?(?:takeover|buyout) by) (?:{_ACQ}{_TGT_END}|(?=[a-z]))"
)
_MERGE_PAIR = re.compile(rf"(?P<acq>{_NAME})(?:,| ,| and) (?P<tgt>{_NAME}) {_MERGE_WORDS}(?![\w])")
_MERGE_WITH = re.compile(
    rf"{_ACQ} (?i:to merge with|agrees to merge with|merges with|will merge with|completes merger with|"
    rf"agrees merger with|in merger deal with|to combine with|agrees to combine with) {_TGT}{_TGT_END}"
)
_SELL = re.compile(
    rf"{_ACQ} (?i:sells|to sell|agrees to sell|has sold|offloads|to offload|divests|to divest|disposes of|"
    rf"completes (?:the )?sale of|(?:says )?(?:finds|found) (?:a )?buyers? for) (?i:its |a |the )?"
    rf"(?:[\w\-%.,]+ ){{0,3}}?(?i:{_UNIT_NOUN})(?![\w\-])(?! [a-z][a-z\-]*s\b)"
)
# (pattern, role of `acq`, role of `tgt`): a target is +1 for its holders, a buyer, seller or merger partner 0
_MERGER_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (_ACQUIRE, "acquirer", "target"),
    (_ACQUIRED_BY, "acquirer", "target"),
    (_MERGE_PAIR, "merger", "merger"),
    (_MERGE_WITH, "merger", "merger"),
    (_SELL, "seller", ""),
)


def _merger_roles(text: str, match: re.Match[str], pattern: re.Pattern[str]) -> tuple[tuple[int, int] | None, ...]:
    """(acquirer, target) spans; the target is dropped where the buyer buys a unit or brand of it."""
    acquirer, target = _company_span(text, match, "acq"), None
    if "tgt" in match.groupdict():
        target = _company_span(text, match, "tgt")
    if pattern is _ACQUIRE and match.group("unit") and target is None and match.group("tgt"):
        return None, None  # "to buy 15 hotels", "buys US plant": an asset purchase
    trade = match.groupdict().get("trade")
    if target and trade and trade.strip()[:1].isupper() and _CORPORATE_WORDS.fullmatch(trade.strip()) \
            and target[1] == match.start("trade"):
        return acquirer, (target[0], match.end("trade"))  # "to buy Commerce Group": the name ends in "Group"
    if target and trade and re.fullmatch(r"[A-Z][a-z]+(?:an|ese|ish)", text[slice(*target)]):
        target = None  # "buys Uruguayan stainless steel firm": a nationality, the firm is not named
    if target and re.search(rf"\b(?i:{_FIRM_NOUN})$", text[target[0]:target[1]]) \
            and not _CORPORATE_WORDS.search(text[target[0]:target[1]]):
        target = None  # "Cooper to Acquire CCTV Maker": a trade, not a name
    if pattern is _ACQUIRE and (match.group("unit") or re.match(r"\s+(?i:from)\b", text[match.end("tgt"):])):
        target = None  # "X to buy Brand from Y", "X to buy Diageo brewery": an asset, not the company
    return acquirer, target


def _merger_events(text: str) -> list[_Found]:
    """'X to buy Y', 'Y to be acquired by X', 'X, Y to merge', 'X sells unit': one event per company.

    Talks count ('X in talks to buy Y') except in a rumour ('Hearing X In Talks To Buy Y')."""
    begin = strip_prefix(text)
    rumour = bool(re.match(r"\s*Hearing\b", text))
    past = _past_descriptor(text, begin)  # "Staffing firm Randstad in talks to buy Vedior"
    for pattern, acquirer_role, target_role in _MERGER_PATTERNS:
        match = pattern.match(text, begin) or (pattern.match(text, past) if past != begin else None)
        if match is None:
            continue
        if rumour and (match.groupdict().get("talks") or match.groupdict().get("talks2")):
            return []
        acquirer, target = _merger_roles(text, match, pattern)
        if acquirer and target and text[target[0]:target[1]] == text[acquirer[0]:acquirer[1]]:
            return []
        if acquirer is None and (pattern is not _ACQUIRED_BY or match.group("acq") is not None or target is None):
            return []
        events = [_event(text, "merger_acquisition", 0, acquirer, acquirer_role)] if acquirer else []
        if target is not None:
            polarity = 1 if target_role == "target" else 0
            events.append(_event(text, "merger_acquisition", polarity, target, target_role))
        return events
    return []


# --------------------------------------------------------------------------------------------------
# Rules that name the company after the trigger: "FDA approves Merck's drug", "SEC probes X"
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AfterRule:
    """A regex with `subj` (and maybe `src`) groups, matched at the start of the headline."""

    type: str
    polarity_by_verb: tuple[tuple[str, int], ...]  # (verb regex, polarity); the first that matches `verb` decides
    pattern: re.Pattern[str]
    detail: str = ""


_FACILITY = (
    r"(?i:refinery|plant|factory|mine|site|facility|platform|rig|warehouse|store|network|terminal|pipeline|"
    r"data center|smelter|oil ?field|reactor|mill|train|flight|jet|plane|aircraft|ship|tanker|vessel|well|works|"
    r"service|services|servers?)"
)
_NEGATIVE_REGULATOR_VERBS = r"reject|block|declin|refus|suspend|ban|halt|den|ground|order|knock|question|against"
_AFTER_RULES: tuple[_AfterRule, ...] = (
    _AfterRule("regulatory", ((_NEGATIVE_REGULATOR_VERBS, -1), ("", 1)), re.compile(
        rf"{_REGULATOR} (?P<verb>(?i:approves|approved|clears|cleared|oks|okays|ok's|backs|endorses|recommends|"
        rf"grants approval to|gives (?:the )?(?:green light|nod|go-ahead|approval) to|rejects|rejected|blocks|"
        rf"blocked|declines to approve|refuses to approve|suspends|bans|halts|denies approval (?:to|for)|"
        rf"knocks back|grounds|questions?|votes (?:\d+[-–]\d+ )?(?:against|for|in favou?r of)|recommends against)) "
        rf"{_SUBJ}(?:{_POSS}(?= )|(?= (?:[\w\-]+ ){{0,2}}?(?i:{_PRODUCT}|deal|"
        rf"merger|takeover|"
        rf"acquisition|"
        rf"purchase|bid|application|product|tie-up|venture|combination|stake|buy|jets|planes|aircraft|fleet|"
        rf"\d{{3}}\w*|\w*mab)(?![\w])))")),
    _AfterRule("legal", (("", -1),), re.compile(
        rf"{_REGULATOR}(?: (?i:says|said)(?: (?i:it))?)? (?P<verb>(?i:probes|investigates|sues|charges|fines|raids|"
        rf"subpoenas|accuses|penali[sz]es|sanctions|files (?:suit|lawsuit|charges|complaint) against|to probe|"
        rf"to investigate|to sue|to fine|targets|(?:(?:open|launch|begin|start|resume|widen|expand)(?:s|es|ed)?|"
        rf"began|steps up) "
        rf"(?:an? |its |the )?(?:[\w\-]+ ){{0,3}}?(?:probe|investigation|inquiry|case) (?:into|of|on|against)))"
        rf" {_SUBJ}(?:{_END}|{_POSS}?(?= [a-z]))")),
    _AfterRule("legal", (("", -1),), re.compile(
        rf"{_SRC} (?P<verb>(?i:sues|takes legal action against|(?:files |announces (?:the )?(?:filing of )?)"
        rf"(?:an? |new |another |second |third |"
        rf"(?:[\w\-]+ )?(?:class[- ]action|patent|antitrust|securities|federal|fraud) )*(?:suit|lawsuit|complaint) "
        rf"against)) {_SUBJ}{_END}")),
    _AfterRule("incident", (("", -1),), re.compile(
        rf"(?P<verb>(?i:(?:deadly |fatal |huge |massive |big |major |second )?(?:explosion|blast|fire|outage|accident|"
        rf"spill|leak|derailment|crash)))(?: (?i:at|hits|on|rocks|in|shuts|halts|of))? {_SUBJ}(?:{_POSS})?"
        rf"(?= (?:[\w\-]+ ){{0,2}}?{_FACILITY}(?![\w]))")),
    # "Probe into Siemens widens", "Class action lawsuit against X", "$2 bln verdict against X"
    _AfterRule("legal", (("", -1),), re.compile(
        rf"(?!.*\b(?i:dismiss\w*|toss\w*|thrown out|dropped|drops|rejected|rejects|overturn\w*|cleared|ends|ended|"
        rf"closes|closed|settles?|settled|may|could|calls? for|urges?|seeks?|asks?|promises?|vows?)\b)"
        rf"(?:(?:[A-Z][A-Z.&]+|U\s?\.\s?S\s?\.|\$[\d.,]+|\d[\d.,]*|(?i:new|fresh|federal|criminal|antitrust|"
        rf"class[- ]action|shareholder|securities|fraud|bribery|accounting|tax|patent|jury|mln|million|bln|billion|"
        rf"widening|expanded|formal)) ){{0,3}}(?P<verb>(?i:probes?|investigations?|inquiry|lawsuits?|suits?|"
        rf"class actions?|verdicts?|charges|complaints?)) (?i:into|against) {_SUBJ}(?:{_END}|{_POSS}?(?= [a-z]))")),
    _AfterRule("layoffs", (("", -1),), re.compile(
        rf"(?:(?:[\d,.]+(?: , \d{{3}})?|(?i:hundreds|thousands) of|(?i:more|further|new|up to)) )*"
        rf"(?P<verb>(?i:jobs (?:at risk|under threat|to go|axed|cut)|job cuts|layoffs|redundancies)) (?i:at) "
        rf"{_SUBJ}{_END}")),
    # "U.S. begins probe of Valero Texas refinery fire": the company's site, then the accident
    _AfterRule("incident", (("", -1),), re.compile(
        rf"(?:.*?(?i:probe|investigation|inquiry) (?i:of|into) )?{_SUBJ}{_POSS}? (?:[A-Z][\w.]* )?"
        rf"(?:[a-z][\w\-]* )?{_FACILITY} "
        rf"(?P<verb>(?i:fire|blast|explosion|leak|spill|outage|accident|derailment|collapse))(?![\w])")),
)


def _after_events(text: str) -> list[_Found]:
    begin = strip_prefix(text)
    found = []
    for rule in _AFTER_RULES:
        match = rule.pattern.match(text, begin)
        if match is None:
            continue
        subject = _company_span(text, match, "subj")
        if subject is None or _HEDGES.search(text[begin:match.start("subj")]):
            continue
        verb = match.group("verb").lower()
        polarity = next(p for verb_rx, p in rule.polarity_by_verb if re.search(verb_rx, verb))
        event_type, polarity, detail = _probed(text, match, rule.type, polarity, rule.detail)
        source = (match.start("src"), match.end("src")) if match.groupdict().get("src") else None
        found.append(_event(text, event_type, polarity, subject, detail, source))
    return found


_PROBED_DEAL = _rx(r"(?:['’]s)?(?: ,?\s?[\w\-.]+){0,5}? (?:deal|merger|takeover|acquisition|bid|purchase|tie-up|"
                   r"combination)\b")
_PROBED_INCIDENT = _rx(r"(?:['’]s)?(?: [\w\-]+){0,3}? (?:fire|blast|explosion|crash|accident|leak|spill|derailment|"
                       r"outage|recall|defects?|collapse)\b")


def _probed(text: str, match: re.Match[str], event_type: str, polarity: int, detail: str) -> tuple[str, int, str]:
    """A probe of a deal is a merger review (regulatory, 0); a probe of an accident is an incident."""
    if event_type != "legal" or not re.search(r"probe|investigat|inquiry", match.group("verb"), re.IGNORECASE):
        return event_type, polarity, detail
    if _PROBED_DEAL.match(text, match.end("subj")):
        return "regulatory", 0, "review"
    if _PROBED_INCIDENT.match(text, match.end("subj")):
        return "incident", -1, "probe"
    return event_type, polarity, detail


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def _broker_led(text: str) -> bool:
    """A headline led by a broker about ratings or targets: its lead-company rules would label the broker."""
    leading = leading_company(text)
    return leading is not None and _is_known_broker(leading[0]) and bool(_ANALYST_WORDS.search(text))


def _dedupe(found: list[_Found]) -> list[FinancialEvent]:
    """First event per (type, subject), subject-less ones dropped where the type has a subject; text order."""
    with_subject = {f.event.type for f in found if f.event.subject is not None}
    seen: set[tuple[str, str | None]] = set()
    kept = []
    for item in found:
        key = (item.event.type, item.event.subject)
        if key in seen or (item.event.subject is None and item.event.type in with_subject):
            continue
        seen.add(key)
        kept.append(item)
    return [item.event for item in sorted(kept, key=lambda item: item.position)]


def match_events(text: str) -> list[FinancialEvent]:
    """Every event the patterns find, in text order, de-duplicated by (type, subject).

    Nothing for questions ('Will Nvidia beat?') and round-ups ('41 Stocks Moving In ...'): neither says
    that one company's event happened. Analyst headlines yield only analyst events, so the broker that
    leads them never becomes the subject of, say, a guidance rule.
    """
    if not text or not text.strip() or "?" in text or is_roundup(text):
        return []
    analyst = _analyst_events(text)
    found = analyst + _merger_events(text) + _after_events(text)
    if not analyst and not _broker_led(text):
        found += _lead_events(text)
    return _dedupe(found)
