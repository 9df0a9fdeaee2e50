"""What may stand in a reply's free text: the model's greeting, empathy, question back or closing, once
the gate has taken out every span the code owns. Pure functions over kept libraries' data.

Free text carries no entity and no claim. Entities are found with kept libraries (dateparser's
`search_dates` and its language data for dates and time words, text2num for number words, price-parser
and Babel's currency names for money, phonenumbers for phone numbers); codes, links, emails and
characters are told by plain string tests. Claims are refused twice over: every word must be in the
language's free-text vocabulary, which holds no action verb, state word, time word or number
(`free_text_problems`); and every sentence must have the shape of the free text's only jobs, a question
back, or a greeting, thanks, apology or closing (`sentence_problems`), so that claims made of everyday
words ("Yes, you can.", "It is with you.") are refused by what they are, not by a list of them.
"""

import difflib
import functools
import importlib
import re
import unicodedata
from collections.abc import Iterable

# phonenumbers, Babel, dateparser, price-parser and text2num are imported in the functions that use them:
# a reply is checked in a run that has messages, and loading the code location need not import them (~0.5 s).
from dropship_pipelines.rules.reply_languages import (
    SUPPORTED_LANGUAGES,
    WORD,
    Phrase,
    detect_language,
    language_pack,
    lowered_words,
)

# Punctuation free text may use; every other symbol (markup, #, @, %, currency signs, slashes) is refused.
ALLOWED_PUNCTUATION = frozenset(".,!?;:'\"\u2019\u2018“”„«»¡¿()-\u2013\u2014…")
_EDGE = "".join(sorted(ALLOWED_PUNCTUATION)) + " "
# Regions whose phone number formats the matcher tries, for the languages the gate checks.
_PHONE_REGIONS = ("US", "GB", "ES", "MX", "DE", "AT", "CH", "FR", "BE", "IT", "NL", "PT", "BR")
_DATE_SETTINGS = {"STRICT_PARSING": False, "RETURN_AS_TIMEZONE_AWARE": False}


def words_of(text: str) -> list[str]:
    return WORD.findall(text)


def in_vocabulary(word: str, vocabulary: frozenset[str]) -> bool:
    """A word, or each piece of an elided or contracted one ("n'hésitez" = "n" + "hésitez")."""
    lowered = word.lower().replace("\u2019", "'")
    return lowered in vocabulary or all(piece in vocabulary for piece in lowered.split("'") if piece)


# --- kept libraries' data, read once --------------------------------------------------------------------
_TIME_KEYS = (
    *("january", "february", "march", "april", "may", "june", "july", "august", "september"),
    *("october", "november", "december"),
    *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    *("year", "month", "week", "day", "hour", "minute", "second", "decade", "century", "fortnight"),
    *("early_morning", "morning", "afternoon", "evening", "night", "ago"),
)


@functools.cache
def time_phrases(language: str) -> frozenset[tuple[str, ...]]:
    """Time words and phrases of dateparser's own data for one language: month and day names, units,
    "ago", parts of the day, and its relative phrases ("next week", "demain")."""
    info = importlib.import_module(f"dateparser.data.date_translation_data.{language}").info
    entries: list[str] = [entry for key in _TIME_KEYS for entry in info.get(key, [])]
    entries += [entry for found in info.get("relative-type", {}).values() for entry in found]
    phrases: set[tuple[str, ...]] = set()
    for entry in entries:
        tokens = tuple(word.lower() for word in words_of(entry))
        # One- and two-letter abbreviations ("d", "mo") are letters of ordinary words, not time.
        if tokens and not (len(tokens) == 1 and len(tokens[0]) <= 2):
            phrases.add(tokens)
    return frozenset(phrases)


@functools.cache
def currency_phrases(language: str) -> frozenset[tuple[str, ...]]:
    """Every currency's names in Babel for one language (singular and plural), with the nouns several
    of them end or start with ("dollars", "francs", "Franken") that name no place. ISO codes are left to
    the code-word test (all capitals)."""
    from babel import Locale
    from babel.numbers import get_currency_name, list_currencies

    locale = Locale.parse(language_pack(language).locale)
    place_words = {w.lower() for name in locale.territories.values() for w in words_of(name)}
    phrases: set[tuple[str, ...]] = set()
    heads: dict[str, int] = {}
    for currency in list_currencies():
        for name in {get_currency_name(currency, count=n, locale=locale) for n in (None, 1, 2)}:
            tokens = tuple(w.lower() for w in words_of(name))
            if not tokens or name.upper() == currency:
                continue
            phrases.add(tokens)
            for head in {tokens[0], tokens[-1]}:
                heads[head] = heads.get(head, 0) + 1
    phrases.update((w,) for w, n in heads.items() if n >= 3 and len(w) >= 4 and w not in place_words)
    return frozenset(phrases)


def _ngrams(words: list[str], phrases: frozenset[tuple[str, ...]]) -> list[str]:
    lowered = [w.lower() for w in words]
    found = []
    for size in (4, 3, 2, 1):
        for start in range(len(lowered) - size + 1):
            if tuple(lowered[start : start + size]) in phrases:
                found.append(" ".join(words[start : start + size]))
    return found


# --- detectors ------------------------------------------------------------------------------------------
def _token_problems(fragment: str) -> tuple[list[str], set[str]]:
    """Emails, links, order references, percentages, money signs, numbers and codes, told token by token
    (a run of number-like tokens, like a spaced tracking number "1Z 999 AA1", is named whole)."""
    problems: list[str] = []
    covered: set[str] = set()
    run: list[str] = []
    run_mixed = False

    def close_run() -> None:
        nonlocal run, run_mixed
        if run:
            span = " ".join(run)
            problems.append(f"{'code or tracking-like token' if run_mixed else 'number'}: {span!r}")
            run, run_mixed = [], False

    for token in fragment.split():
        core = token.strip(_EDGE)
        lowered = core.lower()
        has_digit = any(c.isdigit() for c in core)
        has_letter = any(c.isalpha() for c in core)
        kind = None
        if "@" in core:
            kind = "email address"
        elif "://" in core or lowered.startswith("www.") or _looks_like_domain(core):
            kind = "link"
        elif core.startswith("#") and has_digit:
            kind = "order reference"
        elif "%" in core or "‰" in core:
            kind = "percentage"
        elif any(unicodedata.category(c) == "Sc" for c in core):
            kind = "money"
        if kind is not None:
            close_run()
            problems.append(f"{kind}: {core!r}")
            covered.add(core)
            continue
        if has_digit:
            run.append(core)
            run_mixed = run_mixed or has_letter
            covered.add(core)
            continue
        close_run()
        letters = [c for c in core if c.isalpha()]
        if len(letters) >= 3 and all(c.isupper() for c in letters):
            problems.append(f"code word: {core!r}")
            covered.add(core)
    close_run()
    return problems, covered


def _looks_like_domain(core: str) -> bool:
    """ "example.com", "shop.example.co.uk": letters on both sides of an inner dot, a suffix of 2+ letters."""
    pieces = core.split(".")
    return len(pieces) >= 2 and all(pieces) and pieces[-1].isalpha() and len(pieces[-1]) >= 2


def _phone_numbers(fragment: str) -> list[str]:
    import phonenumbers

    found = []
    for region in _PHONE_REGIONS:
        found.extend(match.raw_string for match in phonenumbers.PhoneNumberMatcher(fragment, region))
    return [f"phone number: {span!r}" for span in dict.fromkeys(found)]


def _number_words(fragment: str, language: str, vocabulary: frozenset[str]) -> list[str]:
    from text_to_num import alpha2digit

    found: list[str] = []
    original = fragment.split()
    for code in SUPPORTED_LANGUAGES:
        converted = alpha2digit(fragment, code)
        if converted == fragment:
            continue
        matcher = difflib.SequenceMatcher(a=original, b=converted.split(), autojunk=False)
        for tag, a_start, a_end, _b_start, _b_end in matcher.get_opcodes():
            span = " ".join(original[a_start:a_end]).strip(_EDGE)
            # Another language's number that is a word of this one (Italian "non" read as Portuguese
            # "nove") is no number here; in the reply's own language every reading counts.
            foreign_homograph = code != language and all(in_vocabulary(w, vocabulary) for w in words_of(span))
            if tag != "equal" and span and not foreign_homograph:
                found.append(span)
    return [f"number word: {span!r}" for span in dict.fromkeys(found)]


def _dates(fragment: str, languages: Iterable[str], vocabulary: frozenset[str]) -> list[str]:
    from dateparser.search import search_dates

    found = []
    for code in languages:
        for span, _when in search_dates(fragment, languages=[code], settings=_DATE_SETTINGS) or []:
            words = words_of(span)
            # dateparser reads some ordinary words as abbreviations ("we" = Wednesday); the vocabulary
            # is the authority on those, and holds no time word (its tests check against the same data).
            if any(c.isdigit() for c in span) or not all(in_vocabulary(w, vocabulary) for w in words):
                found.append(span.strip(_EDGE))
    return [f"date or time: {span!r}" for span in dict.fromkeys(found) if span]


def _money(fragment: str, words: list[str], language: str) -> list[str]:
    found = _ngrams(words, currency_phrases(language))
    # price-parser reads a price string: it needs an amount, and finds currency signs inside words.
    if any(c.isdigit() for c in fragment):
        from price_parser import Price

        price = Price.fromstring(fragment)
        if price.amount is not None and price.currency is not None:
            found.append(f"{price.currency} {price.amount_text}")
    return [f"money: {span!r}" for span in dict.fromkeys(found)]


@functools.lru_cache(maxsize=8192)
def free_text_problems(fragment: str, language: str) -> tuple[str, ...]:
    """Reasons a piece of free text must not be sent: each entity, symbol and unapproved word, named."""
    pack = language_pack(language)
    vocabulary = pack.vocabulary
    problems, covered = _token_problems(fragment)
    words = words_of(fragment)
    unapproved = [w for w in words if not in_vocabulary(w, vocabulary)]

    if sum(c.isdigit() for c in fragment) >= 6:  # the shortest phone numbers the regions use
        problems += _phone_numbers(fragment)
    problems += _money(fragment, words, language)
    problems += _number_words(fragment, language, vocabulary)
    # Dates in the reply's language always, and in the language the fragment reads as once a word is
    # foreign to the vocabulary ("vendredi prochain" in an English reply); a fragment of approved words
    # holds no time word (see time_phrases). Searching all seven languages costs ~40 ms a fragment.
    written_in = detect_language(fragment) if unapproved else None
    searched = [language] if written_in in (None, language) else [language, written_in]
    problems += _dates(fragment, searched, vocabulary)
    time_words = _ngrams(words, time_phrases(language))
    problems += [f"time word: {span!r}" for span in time_words if not in_vocabulary(span, vocabulary)]
    problems += [f"postal address: {w!r}" for w in words if w.lower() in pack.address_words]

    named = {w.lower() for problem in problems for w in words_of(problem.partition(": ")[2])}
    for token in fragment.split():
        core = token.strip(_EDGE)
        if core in covered:
            continue
        for char in core:
            if not (char.isalpha() or char.isdigit() or char in ALLOWED_PUNCTUATION):
                problems.append(f"unapproved character: {char!r}")
    problems += [f"unapproved wording: {w!r}" for w in dict.fromkeys(unapproved) if w.lower() not in named]
    return tuple(dict.fromkeys(problems))


# --- sentences: what free text may be -----------------------------------------------------------------
# A sentence ends at . ! ? … ; : followed by a space, at a comma followed by a capital ("Kind regards,
# Could you ...?"), or at a line break (a code-owned span taken out leaves one). A clause ends at a
# comma, a semicolon, a colon, a bracket or a dash.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…;:])\s+|(?<=,)\s+(?=[¿¡]?[A-ZÀ-ÖØ-Þ])|\n+")
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]|\s-\s")
_CLOSING_QUOTES = " \t\"'»\u201d\u2019)"


def sentences_of(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_BREAK.split(text) if words_of(sentence)]


def _found(words: tuple[str, ...], phrases: frozenset[Phrase]) -> list[str]:
    """Entries of a class in the words: a phrase as a run of whole words, a single word also as a piece
    of an elided or contracted one ("n'hésitez" holds "hésitez", "can't" holds "can")."""
    found = []
    for phrase in phrases:
        size = len(phrase)
        if any(words[i : i + size] == phrase for i in range(len(words) - size + 1)):
            found.append(" ".join(phrase))
        elif size == 1 and any(phrase[0] in word.split("'") for word in words if "'" in word):
            found.append(phrase[0])
    return sorted(found)


def _opens_with(words: tuple[str, ...], phrases: frozenset[Phrase]) -> bool:
    if not words:
        return False
    first = words[0]
    return any(
        words[: len(phrase)] == phrase or (len(phrase) == 1 and first.split("'")[0] == phrase[0])
        for phrase in phrases
    )


@functools.lru_cache(maxsize=8192)
def sentence_problems(sentence: str, language: str) -> tuple[str, ...]:
    """Why one sentence of free text is not what free text may be; empty when it is.

    Free text only greets, thanks, apologises or empathises, asks back and closes; facts, policy and
    actions are code-owned sentences. So a sentence is allowed only as
    - a question (ends with "?"), opening with one of the language's question words: a question asserts
      nothing;
    - or a greeting, thanks, apology/empathy or closing: every clause carries a word of those classes,
      or opens with a linking word ("..., that you wrote to us"), and no word of ability or commitment
      ("can", "will", "do") stands in it.
    And no sentence holds an answer word ("yes", "of course", "no problem"): free text cannot answer
    what the customer asked. The classes are the language file's `sentences` block.
    """
    classes = language_pack(language).sentences
    words = lowered_words(sentence)
    if not words:
        return ()
    shown = sentence.strip()
    answers = _found(words, classes.answer)
    if answers:
        return (f"answers the customer: {answers[0]!r} in {shown!r}",)
    if sentence.rstrip(_CLOSING_QUOTES).endswith("?"):
        if _opens_with(words, classes.question_openers):
            return ()
        return (f"a question must open with a question word: {shown!r}",)
    commitments = _found(words, classes.commitment)
    if commitments:
        return (f"states what can or will be done: {commitments[0]!r} in {shown!r}",)
    markers = classes.all_markers
    clauses = [lowered_words(clause) for clause in _CLAUSE_BREAK.split(sentence)]
    marked = [bool(_found(clause, markers)) for clause in clauses if clause]
    if not any(marked):
        return (f"not a greeting, thanks, apology or closing: {shown!r}",)
    for clause in clauses:
        if clause and not _found(clause, markers) and not _opens_with(clause, classes.linking):
            return (f"not a greeting, thanks, apology or closing: {' '.join(clause)!r} in {shown!r}",)
    return ()
