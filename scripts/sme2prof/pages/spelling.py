"""Spell-check Markdown the way the learning-paths repository does, against the kit's word list.

How that repository checks (its ``.spellcheck.yml``, run by pyspelling with aspell):
Python-Markdown with the ``extra`` extensions turns each ``.md`` file into HTML; code,
``pre`` and blockquotes are skipped, HTML comments are not read, image alt text is;
front matter is *not* stripped, so YAML keys and values are checked as prose, and so is
the text of Hugo shortcodes and of ``tabpane`` tabs. We run the same pipeline with
aspell's American English dictionary (``en_US``), so a British spelling fails here as it
does there. The pipeline is written here from that description; nothing is copied.

``site/wordlist.txt`` holds the real technical terms the pages use that aspell does not
know; ``make pr`` adds the ones missing from the repository's own ``.wordlist.txt``.
"""
from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from sme2prof.errors import UserError
from sme2prof.pages.spelling_tools import DICTIONARY, require_aspell
from sme2prof.paths import REPO_ROOT

WORDLIST = REPO_ROOT / "site" / "wordlist.txt"


@dataclass(frozen=True)
class SpellingReport:
    """Unknown words per file (relative names), in file order."""
    words_by_file: dict[str, list[str]]

    @property
    def unknown_words(self) -> list[str]:
        return sorted({w for words in self.words_by_file.values() for w in words}, key=str.lower)

    @property
    def reports(self) -> int:
        """One report per word per file, as pyspelling counts them."""
        return sum(len(words) for words in self.words_by_file.values())

    def lines(self) -> list[str]:
        return [f"{name}: {', '.join(words)}" for name, words in self.words_by_file.items() if words]

    def summary(self) -> str:
        return f"spelling: {len(self.unknown_words)} unknown words, {self.reports} reports"


def read_wordlist(path: Path = WORDLIST) -> list[str]:
    """The words of a word list: one per line; blank lines and ``#`` comments are skipped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pyspelling_config(files: list[Path], wordlist: Path, dictionary_out: Path) -> dict:
    """One pyspelling task over ``files`` with the repository's Markdown pipeline."""
    return {"matrix": [{
        "name": "markdown",
        "sources": [str(f) for f in files],
        "expect_match": False,
        "default_encoding": "utf-8",
        "aspell": {"lang": "en", "d": DICTIONARY},
        "dictionary": {"wordlists": [str(wordlist)], "output": str(dictionary_out),
                       "encoding": "utf-8"},
        "pipeline": [
            {"pyspelling.filters.markdown": {"markdown_extensions": ["markdown.extensions.extra"]}},
            {"pyspelling.filters.html": {"comments": False, "attributes": ["alt"],
                                         "ignores": [":matches(code, pre)", "code", "pre",
                                                     "blockquote"]}},
        ],
    }]}


def check_spelling(files: list[Path], root: Path, wordlist: Path = WORDLIST) -> SpellingReport:
    """Unknown words in ``files`` (named relative to ``root``) after the word list."""
    require_aspell()
    files = [f.resolve() for f in files]
    root = root.resolve()
    try:
        from pyspelling import spellcheck
    except ImportError:
        raise UserError("pyspelling is not installed in this Python environment",
                        "run `make setup` (it installs scripts/requirements.txt)") from None
    # The word list must be plain words: aspell rejects a dictionary with a comment line.
    words = read_wordlist(wordlist)
    found: dict[str, set[str]] = defaultdict(set)
    with tempfile.TemporaryDirectory(prefix="sme2prof-spelling-") as tmp:
        plain = Path(tmp) / "wordlist.txt"
        plain.write_text("\n".join(words) + "\n", encoding="utf-8")
        config = Path(tmp) / "spelling.yml"
        config.write_text(yaml.safe_dump(pyspelling_config(files, plain, Path(tmp) / "words.dic")),
                          encoding="utf-8")
        for result in spellcheck(str(config)):
            if result.error:
                raise UserError(f"the spell check failed on {result.context}: {result.error}",
                                "check that aspell and its en_US dictionary work: "
                                "echo colour | aspell list -d en_US")
            # The context is "<file>: <html selector>" for text, "<file>" for a whole file.
            source = next(str(f) for f in files if result.context == str(f)
                          or result.context.startswith(f"{f}: "))
            found[source].update(result.words)
    return SpellingReport({str(f.relative_to(root)): sorted(found[str(f)], key=str.lower)
                           for f in files if found.get(str(f))})
