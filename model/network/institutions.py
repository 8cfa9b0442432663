"""Organisations that are not companies: the names a business wire tags as ORG that no company rule wants.

A dense wire writes "Fed", "Nikkei", "G8", "OPEC", "Hamas" or "Factbox" in
its headlines every day, and the tagger rightly calls them organisations; as
`entity` keys they burst with every rate decision, index slide or war, and on
the 2007 Reuters wire they were about 45 % of the company rules' alerts
(issue #25). `is_institution` says which keys name central banks,
regulators, governments and agencies, supranational bodies, political groups,
market indices, currencies, news labels, job titles, diseases, economic
indicators ("CPI", "ISM"), commodities ("CO2", "crude"), the policymakers who
speak for central banks ("Bernanke") or products ("iPhone", "TV"); the stream
counts them under the `institution` scope (monitor/storage/aggregates.py),
which has no default rule. The list is general knowledge of the kinds named
above, not fitted to any list of events.

Keys are `monitor.storage.aggregates.entity_key` outputs: lower case, inner
punctuation kept ("s&p 500", "u.s. treasury").
"""

from __future__ import annotations

CENTRAL_BANKS = frozenset({
    "fed", "federal reserve", "the fed", "fomc", "ecb", "european central bank", "boj", "bank of japan", "boe",
    "bank of england", "pboc", "people's bank of china", "rba", "reserve bank of australia", "rbi",
    "reserve bank of india", "snb", "swiss national bank", "riksbank", "bundesbank", "bank of canada", "rbnz",
    "norges bank", "banque de france", "bank of korea", "central bank", "bis", "imf", "world bank",
})
# The people who speak for central banks and finance ministries ("US STOCKS-Futures slip on Bernanke remarks"):
# unambiguous surnames only, as a wire writes them; they are the institution's voice, not a company's news.
POLICYMAKERS = frozenset({
    "bernanke", "greenspan", "yellen", "volcker", "draghi", "lagarde", "trichet", "kuroda", "shirakawa",
    "fukui", "carney", "paulson", "geithner", "mnuchin", "kudlow", "kohn", "lacker", "plosser", "hoenig",
    "bullard", "kashkari", "dudley", "rosengren", "kocherlakota", "poole", "weidmann", "villeroy", "nowotny",
})
REGULATORS_AND_AGENCIES = frozenset({
    "sec", "fda", "ftc", "doj", "justice department", "department of justice", "treasury", "u.s. treasury",
    "cftc", "fdic", "occ", "cfpb", "finra", "irs", "epa", "faa", "ntsb", "nhtsa", "fcc", "ferc", "nrc", "fsa",
    "fca", "pra", "esma", "eba", "bafin", "amf", "consob", "csrc", "cbrc", "sfc", "asic", "osc", "ofcom",
    "ofgem", "competition commission", "cma", "european commission", "commission", "medicare", "medicaid",
    "cms", "cdc", "nih", "who", "world health organization", "usda", "energy department", "commerce department",
    "labor department", "pentagon", "white house", "congress", "senate", "house", "parliament", "kremlin",
    "downing street", "bundestag", "duma", "supreme court", "state department", "ministry of finance",
    "finance ministry", "mof", "meti", "ndrc", "mofcom", "opec", "iea", "eia", "oecd", "wto", "g7", "g8", "g20",
    "eu", "european union", "euro zone", "eurozone", "un", "united nations", "u.n.", "nato", "asean", "apec",
    "security council", "eurogroup", "ecofin", "icao", "iaea",
})
POLITICAL_GROUPS = frozenset({
    "hamas", "fatah", "hezbollah", "taliban", "al qaeda", "al-qaeda", "isis", "islamic state", "plo", "farc",
    "democrats", "republicans", "gop", "labour", "labour party", "tories", "conservatives", "liberal democrats",
    "snp", "ukip", "cdu", "spd", "anc", "bjp", "congress party", "ldp", "dpj",
})
INDICES = frozenset({
    "nikkei", "nikkei 225", "topix", "dow", "dow jones", "djia", "s&p", "s&p 500", "s&p500", "nasdaq composite",
    "nasdaq 100", "ftse", "ftse 100", "ftseurofirst", "dax", "cac", "cac 40", "hang seng",
    "stoxx", "stoxx 600", "euro stoxx", "euro stoxx 50", "kospi", "sensex", "nifty", "msci", "russell 2000",
    "vix", "ibex", "mib", "smi", "asx", "tsx", "shanghai composite", "wall street", "street", "bovespa",
    "qqqq", "qqq", "spdr",  # funds that track an index trade as the index
})
CURRENCIES = frozenset({
    "yen", "euro", "dollar", "sterling", "pound", "yuan", "renminbi", "franc", "swiss franc", "rupee", "ruble",
    "rouble", "won", "peso", "real", "lira", "rand", "bitcoin",
})
NEWS_LABELS = frozenset({
    "factbox", "analysis", "update", "breakingviews", "poll", "exclusive", "wrapup", "column", "instant view",
    "timeline", "q+a", "scenarios", "interview", "preview", "snap analysis", "reuters", "reuters poll",
    "reuters summit", "market wrap", "stocks news", "brief", "corrected", "refile",
})
TITLES = frozenset({"ceo", "coo", "cfo", "cto", "chairman", "chief executive", "president", "board"})
DISEASES = frozenset({"covid-19", "covid", "coronavirus", "sars", "h1n1", "bird flu", "ebola", "zika"})
# Macro figures and commodities a wire's market reports name every day ("Wall St eyes Wal-Mart, CPI")
ECONOMIC_INDICATORS = frozenset({
    "cpi", "ppi", "gdp", "pmi", "ism", "pce", "nfp", "payrolls", "non-farm payrolls", "nonfarm payrolls",
    "jobless claims", "retail sales", "housing starts", "durable goods", "consumer price index",
    "producer price index", "consumer confidence", "ifo", "zew", "tankan", "beige book",
})
COMMODITIES = frozenset({
    "oil", "crude", "brent", "wti", "gold", "silver", "copper", "platinum", "natural gas", "co2", "carbon",
    "wheat", "corn", "soybeans", "sugar", "coffee", "cocoa",
})

# Products and things, not their makers ("Launch of Apple TV device delayed": the news is Apple's)
PRODUCTS = frozenset({
    "tv", "iphone", "ipod", "ipad", "itunes", "xbox", "playstation", "wii", "blu-ray", "hd dvd", "dvd", "pc",
    "internet", "web", "windows", "vista", "android",
})

INSTITUTION_KEYS: frozenset[str] = (CENTRAL_BANKS | POLICYMAKERS | REGULATORS_AND_AGENCIES | POLITICAL_GROUPS
                                    | INDICES | CURRENCIES | NEWS_LABELS | TITLES | DISEASES | ECONOMIC_INDICATORS
                                    | COMMODITIES | PRODUCTS)
# the regional Federal Reserve banks and their surveys: "Philly Fed", "New York Fed", "Dallas Fed"
_FED_BANK_SUFFIXES = (" fed",)


def is_institution(key: str) -> bool:
    """True when an entity key names no company: a central bank (a regional Fed too) or its policymakers, a
    regulator, government body, political group, index, currency, news label, job title, disease, economic
    indicator, commodity or product."""
    key = key.strip().lower()
    return key in INSTITUTION_KEYS or key.endswith(_FED_BANK_SUFFIXES)


__all__ = ["is_institution", "INSTITUTION_KEYS"]
