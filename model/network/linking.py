"""Entity linking: company mentions and ticker patterns in news text -> ticker symbols.

Two sources of evidence, used in this order:

1. Explicit ticker patterns, found by `find_tickers`: cashtags (``$AAPL``),
   exchange prefixes (``(NASDAQ: AAPL)``, ``NYSE:IBM``) and Reuters RICs
   (``(AAPL.O)``, ``BARC.L``). These are trusted as written.
2. A `Gazetteer` of company names built from pytickersymbols (US indices
   first, then European ones) plus an optional watchlist YAML.

Rules that keep precision high (a wrong ticker is worse than none):

- Names are linked only for ORG entities; TICKER entities (from patterns) link
  to their symbol. PER/LOC/MISC never link.
- A span with no capital letter never links ("apple pie", "target rates").
- A name that is also a common word ("Apple", "Target", "Gap", "Visa",
  "Shell", "Ford") links only when the text around it reads as market news
  (shares, stock, earnings, analyst, CEO, ...) and not as its everyday sense
  (fruit, orchard, ...). Bare symbols in running text ("F", "IT", "ON") are
  never linked by name lookup: "F" is not "Fed".
- A ticker pattern right after the name ("Apple Inc (AAPL.O)") wins.

Symbols are the ones the company trades under today (Facebook -> META);
companies no longer listed (Twitter, Mellanox) have no ticker. Try it:

    python -m model.network.linking "Morgan Stanley raises Apple price target"
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

# Index order is priority order when two listings share a name variant.
DEFAULT_INDICES: tuple[str, ...] = (
    "DOW JONES", "S&P 100", "S&P 500", "NASDAQ 100", "S&P 600",
    "FTSE 100", "DAX", "CAC_40", "AEX", "EURO STOXX 50", "IBEX 35", "Switzerland 20",
)

# Short names and old names the index data does not carry (name -> symbol).
BUILTIN_ALIASES: dict[str, str] = {
    "Google": "GOOGL", "Alphabet": "GOOGL", "Facebook": "META", "Meta": "META", "Exxon": "XOM",
    "Exxon Mobil": "XOM", "Citi": "C", "JPMorgan": "JPM", "JP Morgan": "JPM", "J.P. Morgan": "JPM",
    "Goldman": "GS", "Berkshire": "BRK.B", "Wal-Mart": "WMT", "Coke": "KO", "Coca-Cola": "KO",
    "Disney": "DIS", "HP": "HPQ", "Hewlett-Packard": "HPQ", "General Electric": "GE", "GE": "GE", "Ford": "F",
    "Advanced Micro Devices": "AMD", "Lloyds": "LLOY.L", "Shell": "SHEL.L", "Royal Dutch Shell": "SHEL.L",
    "BofA": "BAC", "Nvidia": "NVDA", "NVIDIA": "NVDA", "Procter and Gamble": "PG", "P&G": "PG",
    "McDonalds": "MCD", "Amazon.com": "AMZN", "Caterpillar": "CAT", "Chevron": "CVX",
}

# Names that are also everyday words: they need market context to link.
COMMON_WORD_NAMES: frozenset[str] = frozenset({
    "apple", "target", "gap", "visa", "shell", "ford", "oracle", "amazon", "next", "square", "chase", "ball",
    "progressive", "discovery", "southern", "best buy", "lowe's", "dollar general", "general", "sea",
    "alphabet", "meta", "block", "target corporation", "snap", "match", "edison", "cigna", "corning", "dover",
    "fox", "news", "ross", "mosaic", "align", "key", "public storage", "universal", "united", "american",
})

MARKET_CONTEXT = re.compile(
    r"\b(shares?|stocks?|earnings|revenues?|profits?|sales|quarter(ly)?|analysts?|ceo|chief|chairman|investors?|"
    r"price target|pt|upgrades?|downgrades?|ratings?|dividends?|buyback|ipo|deals?|acquir\w*|mergers?|markets?|"
    r"nasdaq|nyse|s&p|dow|premarket|outlook|guidance|forecasts?|stores?|iphones?|ipad|retailers?|compan(y|ies)|"
    r"inc|corp|plc|beats?|miss(es)?|estimates|results|valuation|trillion|billion|million|bn|layoffs|jobs|"
    r"maintains|raises|lowers|initiates|buy|sell|neutral|overweight|outperform|underperform|upside|downside|"
    r"rall(y|ies)|bullish|bearish|sector|industry|shoppers|customers|brand)\b"
    r"|[$\u00a3\u20ac]\s?\d|\d(\.\d+)?\s?%",
    re.IGNORECASE,
)
EVERYDAY_CONTEXT = re.compile(
    r"\b(fruit|orchards?|pie|juice|cider|apples|growers?|harvest|bull'?s-?eye|archery|shooting range|"
    r"mind the gap|gap year|passport|travel visa|visa applications?|seashells?|beach)\b",
    re.IGNORECASE,
)

# Strip these from official names to get the name news uses ("Netflix, Inc." -> "Netflix").
_LEGAL_SUFFIX = re.compile(
    r"(,?\s+(inc\.?|incorporated|corp\.?|corporation|company|co\.?|plc|ltd\.?|limited|llc|l\.p\.|lp|n\.v\.|nv|"
    r"s\.a\.|sa|se|ag|holdings?|group|& co\.?))+$",
    re.IGNORECASE,
)
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
# Then these descriptive tails, when what remains is still a distinctive name ("Micron Technology" -> "Micron",
# "CVS Health" -> "CVS"; but "General Motors" keeps its tail because "General" is an everyday word).
_DESCRIPTIVE_TAIL = re.compile(
    r"\s+(technology|technologies|health|platforms|systems|entertainment|motor|motors|communications|"
    r"financial|brands|industries|international|resources|energy|pharmaceuticals|semiconductor)$",
    re.IGNORECASE,
)
# Stock indices and exchanges read as places where prices move, not as the listed operator.
INDEX_NAMES: frozenset[str] = frozenset({"nasdaq", "dow", "dow jones", "s&p", "s&p 500", "ftse", "ftse 100", "dax",
                                         "nikkei", "nyse", "cac 40", "stoxx"})

# GICS sectors, and the index data's other wordings of them.
GICS_SECTORS: tuple[str, ...] = (
    "Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", "Financials", "Health Care",
    "Industrials", "Information Technology", "Materials", "Real Estate", "Utilities",
)
SECTOR_SYNONYMS: dict[str, str] = {
    "technology": "Information Technology", "semiconductors": "Information Technology",
    "software": "Information Technology", "healthcare": "Health Care", "pharmaceuticals": "Health Care",
    "banks": "Financials", "banking services": "Financials",
    "insurance": "Financials", "financial services": "Financials", "oil & gas": "Energy", "oil and gas": "Energy",
    "petroleum industry": "Energy", "real estate investment trust": "Real Estate", "retail": "Consumer Discretionary",
    "automotive": "Consumer Discretionary", "telecommunications": "Communication Services", "aerospace": "Industrials",
    "beverages": "Consumer Staples", "consumer non-cyclicals": "Consumer Staples",
    "consumer cyclicals": "Consumer Discretionary",
}

_SYMBOL = r"[A-Z]{1,5}(?:\.[A-Z]{1,2})?"
_CASHTAG = re.compile(r"(?<![\w$])\$(?P<symbol>[A-Z]{1,5}(?:\.[A-Z])?)(?![\w])")
_EXCHANGE = re.compile(
    r"\b(?P<exchange>NYSE American|NYSE Arca|NYSEARCA|NYSE|NASDAQ|Nasdaq|AMEX|LSE|LON|TSX|OTC|OTCQX|BATS)"
    r"\s*:\s*(?P<symbol>" + _SYMBOL + r")\b"
)
# Reuters Instrument Codes: US suffixes name the venue and are dropped; others are kept (BARC.L).
_RIC = re.compile(
    r"(?<=[(<])\s*(?P<ric>(?P<symbol>[A-Z]{1,5})\.(?P<venue>OQ|O|N|A|K|L|DE|PA|AS|MI|TO|HK|T))\s*(?=[)>])"
)
_BETWEEN_NAME_AND_TICKER = re.compile(r"\s*[(<]?\s*(?:[A-Za-z][A-Za-z ]*:\s*)?")
_US_RIC_VENUES = frozenset({"OQ", "O", "N", "A", "K"})


@dataclass(frozen=True)
class TickerMention:
    start: int  # character span of the symbol-bearing token ("$AAPL", "AAPL", "AAPL.O")
    end: int
    symbol: str
    how: str  # cashtag | exchange | ric


def find_tickers(text: str) -> list[TickerMention]:
    """Every explicit ticker pattern in `text`, in order of appearance (overlaps removed)."""
    found: list[TickerMention] = []
    for match in _CASHTAG.finditer(text):
        found.append(TickerMention(match.start(), match.end(), match["symbol"], "cashtag"))
    for match in _EXCHANGE.finditer(text):
        found.append(TickerMention(match.start("symbol"), match.end("symbol"), match["symbol"], "exchange"))
    for match in _RIC.finditer(text):
        symbol = match["symbol"] if match["venue"] in _US_RIC_VENUES else match["ric"]
        found.append(TickerMention(match.start("ric"), match.end("ric"), symbol, "ric"))
    found.sort(key=lambda m: m.start)
    kept: list[TickerMention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def name_key(name: str) -> str:
    """The lookup form of a company name: no leading "The", no possessive, no legal suffix, casefolded."""
    name = re.sub(r"['\u2019]s$", "", name.strip())
    name = _LEADING_THE.sub("", name)
    name = _LEGAL_SUFFIX.sub("", name).strip(" ,.")
    return re.sub(r"\s+", " ", name).casefold()


def sector_from_industries(industries: Iterable[str]) -> str | None:
    """The GICS sector named (or paraphrased) in an index entry's industry list, if any."""
    industries = list(industries)
    for industry in industries:
        if industry in GICS_SECTORS:
            return industry
    for industry in industries:
        if industry.casefold() in SECTOR_SYNONYMS:
            return SECTOR_SYNONYMS[industry.casefold()]
    return None


class Gazetteer:
    """Company names -> ticker symbols, with each symbol's sector."""

    def __init__(self) -> None:
        self._by_key: dict[str, tuple[int, str]] = {}  # name key -> (priority, symbol); lower priority wins
        self._sectors: dict[str, str] = {}
        self.symbols: set[str] = set()

    def add(self, symbol: str, names: Iterable[str], sector: str | None = None, priority: int = 2) -> None:
        """Register `symbol` under each name and its stripped variant (an equal or better priority keeps its entry)."""
        self.symbols.add(symbol)
        if sector and symbol not in self._sectors:
            self._sectors[symbol] = sector
        for name in names:
            short = _DESCRIPTIVE_TAIL.sub("", name_key(name))
            tail_keys = [(short, priority + 2)] if len(short) >= 3 and short not in COMMON_WORD_NAMES else []
            for key, rank in [(name.strip().casefold(), priority), (name_key(name), priority + 1), *tail_keys]:
                if key and (key not in self._by_key or self._by_key[key][0] > rank):
                    self._by_key[key] = (rank, symbol)

    @classmethod
    def from_index_data(cls, indices: Iterable[str] = DEFAULT_INDICES, watchlist: Path | None = None) -> Gazetteer:
        """Build from pytickersymbols' index lists, the built-in aliases and an optional watchlist."""
        from pytickersymbols import PyTickerSymbols

        gazetteer = cls()
        data = PyTickerSymbols()
        seen: set[str] = set()
        for index in indices:
            for stock in data.get_stocks_by_index(index):
                symbol = stock.get("symbol")
                if not symbol or symbol in seen:
                    continue
                seen.add(symbol)
                gazetteer.add(symbol, [stock["name"]], sector_from_industries(stock.get("industries") or []),
                              priority=10)
        for name, symbol in BUILTIN_ALIASES.items():
            gazetteer.add(symbol, [name], priority=2)
        if watchlist is not None:
            gazetteer.add_watchlist(watchlist)
        return gazetteer

    def add_watchlist(self, path: Path) -> None:
        """Add a YAML list of {ticker, names, aliases, sector}; watchlist entries outrank everything else."""
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a list of {{ticker, names, aliases, sector}} entries")
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("ticker"), str):
                raise ValueError(f"{path}: entry {number} needs a 'ticker' string")
            unknown = set(entry) - {"ticker", "names", "aliases", "sector"}
            if unknown:
                raise ValueError(f"{path}: entry {number} ({entry['ticker']}): unknown field {sorted(unknown)[0]!r}")
            names = list(entry.get("names") or []) + list(entry.get("aliases") or [])
            if entry.get("sector"):
                self._sectors.pop(entry["ticker"], None)  # the watchlist's sector wins over the index data's
            self.add(entry["ticker"], names, entry.get("sector"), priority=0)

    @classmethod
    def default(cls, watchlist: Path | None = None) -> Gazetteer:
        """The process-wide gazetteer (built once per watchlist path)."""
        return _default_gazetteer(watchlist)

    def lookup(self, name: str) -> str | None:
        """The symbol for a company name, ignoring context (exact form first, then the stripped form)."""
        for key in (name.strip().casefold(), name_key(name)):
            if key in self._by_key:
                return self._by_key[key][1]
        return None

    def sector(self, ticker: str) -> str | None:
        return self._sectors.get(ticker)

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None:
        """The ticker for the entity `text[start:end]` of `entity_type`, or None when not confident."""
        span = text[start:end]
        if entity_type == "TICKER":
            mentions = find_tickers(span) or find_tickers(f"${span.lstrip('$')}")
            return mentions[0].symbol if mentions else None
        if entity_type != "ORG" or not any(ch.isupper() for ch in span):
            return None
        window = text[end:end + 32]
        following = find_tickers(window)
        # "Apple Inc (AAPL.O)", "Apple (NASDAQ: AAPL)", "Apple $AAPL": a pattern right after the name names it.
        if following and _BETWEEN_NAME_AND_TICKER.fullmatch(window[:following[0].start]):
            return following[0].symbol
        key = name_key(span)
        symbol = self.lookup(span)
        if symbol is None or key in INDEX_NAMES:
            return None
        if key in COMMON_WORD_NAMES or span.strip().casefold() in COMMON_WORD_NAMES:
            if EVERYDAY_CONTEXT.search(text) or not MARKET_CONTEXT.search(text[:start] + " " + text[end:]):
                return None
        return symbol


@lru_cache(maxsize=4)
def _default_gazetteer(watchlist: Path | None) -> Gazetteer:
    return Gazetteer.from_index_data(watchlist=watchlist)


if __name__ == "__main__":  # pragma: no cover - a manual probe
    sentence = " ".join(sys.argv[1:])
    print([(m.symbol, m.how) for m in find_tickers(sentence)])
    gazetteer = Gazetteer.default()
    for match in re.finditer(r"[A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*)*", sentence):
        print(match.group(0), "->", gazetteer.link(sentence, match.start(), match.end(), "ORG"))
