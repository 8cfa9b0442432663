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
* Settlements are legal events with polarity 0 (detail "settlement"): they end an overhang and cost money,
  so the wording does not say which way they cut. Fines, probes, suits and charges are -1.
* Credit-rating agencies (Moody's, S&P, Fitch) are brokers here: "Moody's cuts X rating" is a downgrade.
* An executive's retirement is a departure (-1) like a resignation; appointments are not events.
* Maintained ratings have polarity 0 whatever the rating; initiations take the polarity of the rating.
* A price-target clause whose "from $a to $b" contradicts its verb ("Lowers PT from $57 to $78") is dropped.

Figures against estimates ("Q1 EPS $0.40 vs $0.42 est") belong to model/events/estimates.py, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from model.events.taxonomy import FinancialEvent

# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------

_TOKEN = r"(?:[A-Z0-9][\w&'’.\-]*|[a-z][A-Z][\w\-]*|&)"  # "NVIDIA", "3M", "B.", "eBay", "&"
_CONNECTOR = r"(?:of|de|du|la|von|van|der|y|del|&)"
_SUFFIX = r"(?:Inc|Corp|Co|Ltd|LLC|L\.P|LP|plc|PLC|SA|AG|NV|N\.V|S\.A|Limited|Incorporated)\.?"
_NAME = rf"{_TOKEN}(?:,? {_SUFFIX}(?![\w])| (?:{_CONNECTOR} )?{_TOKEN}){{0,6}}?"
_SUBJ = rf"(?P<subj>{_NAME})"
_SRC = rf"(?P<src>{_NAME})"
_POSS = r"(?:'s|’s|')"
# What may follow a name that is followed by more of the sentence: a clause break, a preposition, the end.
_END = r"(?=\s*(?:[,;:(]|\s-\s|\s–\s|$)|\s+(?i:for|in|from|at|with|worth|valued|after|as|amid|on|over|to|by|and|in|"\
       r"says|said|shares|stock|deal|,)\b)"

_POSSESSIVE_NAMES = frozenset(
    "mcdonald's sainsbury's moody's macy's kellogg's wendy's dillard's aaron's lowe's domino's kohl's denny's "
    "hershey's dick's land's friendly's carl's papa john's sotheby's christie's lloyd's claire's "
    "o'reilly's".split()
)

_REJECT_NAMES = frozenset(
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
    """.split(",")
    if x.strip()
)

_GENERIC_FIRST_TOKENS = frozenset(
    """why how what when where who which here here's this these is are will can should does do did
    top best biggest big new early hot key exclusive update breaking watch trading earnings week today
    stocks shares stock markets market analysts analyst brokerages sources report the a an no not
    mid-day mid-afternoon mid-morning pre-market premarket after-hours after before ahead morning midday
    weekly daily monthly wall u.s. us uk eu benzinga's benzinga""".split()
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
    mary travis dara evan reed larry sergey jensen lisa safra jamie lloyd brian""".split()
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
    r"Australian |Indian |New York |State )?(?:FDA|Food and Drug Administration|EMA|CHMP|EU|E\.U\.|"
    r"European Commission|EC|Brussels|FTC|DOJ|Justice Department|Department of Justice|SEC|CMA|FCA|FSA|"
    r"CFTC|FINRA|FAA|NHTSA|EPA|Health Canada|Ofcom|Ofgem|regulators?|watchdog|prosecutors|attorneys? general|"
    r"authorities|antitrust regulators?|competition regulators?)(?: (?:panel|advisers|advisory panel|"
    r"staff|committee))?)"
)

# --------------------------------------------------------------------------------------------------
# Cleaning: prefixes, round-ups, questions
# --------------------------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^(?:\s*(?:(?:UPDATE|RPT|REFILE|CORRECTED|CORRECTION|BRIEF|EXCLUSIVE|Exclusive|RESEARCH ALERT|Reuters|"
    r"BUZZ|HOT STOCKS|ANALYSIS|INSIGHT|WRAPUP|FEATURE|Breaking|BREAKING|Update)(?:\s*\d+)?\s*[-:–]\s*|"
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
    r"ENERGY|EMERGING MARKETS|ADR Report|GLOBAL [A-Z]+)\s*-|^\d+ (?:Stocks|Companies|Biggest|Big|Top|Mid-Cap|"
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
    return bool(_ROUNDUP.search(text))


# --------------------------------------------------------------------------------------------------
# Subject validation
# --------------------------------------------------------------------------------------------------


def _trim_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a captured name to the company as written: no trailing possessive or punctuation."""
    while end > start and text[end - 1] in "-–,;:":
        end -= 1
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
    if tokens[0] in _GENERIC_FIRST_TOKENS or re.fullmatch(r"[\d.,$%]+|(?:19|20)\d\d\w*", tokens[0]):
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
    than over under amid ahead before despite against into via while why how what new""".split()
)


def _token_spans(text: str, start: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:])]


def _is_name_token(token: str) -> bool:
    return bool(re.match(r"[A-Z0-9&]|[a-z][A-Z]", token)) and not re.fullmatch(r"[$%\d.,]+[A-Za-z]{0,2}", token)


def _leading_run(text: str) -> tuple[int, int] | None:
    """[start, end) of the capitalised run a headline starts with, cut at a possessive, comma or headline word."""
    end = None
    tokens = _token_spans(text, strip_prefix(text))
    for tok_start, tok_end in tokens:
        raw = text[tok_start:tok_end]
        token = raw.rstrip(",;:")
        if end is not None and re.fullmatch(_CONNECTOR, token) and token != "&":
            continue
        low = re.sub(_POSS + "$", "", token.lower())
        if not _is_name_token(token) or low in _STOP_WORDS or _starts_trigger(text, tok_start):
            break
        end = tok_start + len(token)
        if re.search(_POSS + "$", token) or raw != token:
            break
    return (tokens[0][0], end) if end is not None else None


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
