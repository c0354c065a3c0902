"""The README is the front door and `docs/` holds the reference: every relative link and `#anchor` in them
must lead somewhere, and every page under `docs/` must be reachable from the README's index.

Anchors are computed the way GitHub renders headings (lower case, punctuation dropped, spaces to hyphens,
`-1`, `-2` for repeats), so a renamed heading or a moved section fails here instead of silently on GitHub.
Links inside code blocks and code spans are not links and are skipped. External URLs are not fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
# Code spans may wrap lines inside a paragraph, never across a blank line.
CODE_SPAN = re.compile(r"(`+)(?:(?!\n\n).)+?(?<!`)\1(?!`)", re.S)
# [text](target "title") and ![alt](target); the text may hold one level of brackets, the target one
# level of parentheses.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]*)\"", re.I)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)=\"([^\"]*)\"", re.I)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def outside_fences(text: str) -> str:
    """The text with every fenced code block blanked (line numbers kept)."""
    kept: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        else:
            kept.append(line)
            continue
        kept.append("")
    return "\n".join(kept)


def prose(text: str) -> str:
    """The text outside fenced code blocks, with code spans blanked too (their brackets are not links)."""
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), outside_fences(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in outside_fences(text).splitlines():
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    found.update(HTML_ANCHOR.findall(text))
    return found


def targets(text: str) -> Iterator[str]:
    body = prose(text)
    yield from INLINE_LINK.findall(body)
    yield from REFERENCE_DEF.findall(body)
    yield from HTML_LINK.findall(body)


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each relative link or anchor of one Markdown file that does not resolve, as `target: why`."""
    problems: list[str] = []
    for target in targets(path.read_text(encoding="utf-8")):
        if not target or SCHEME.match(target) or target.startswith("//"):
            continue  # external: not fetched
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{target}: {file_part} does not exist")
            continue
        if not dest.is_relative_to(root):
            problems.append(f"{target}: leaves the repository")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            problems.append(f"{target}: no heading or anchor #{anchor} in {dest.relative_to(root)}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_every_docs_page_is_in_the_readme_index() -> None:
    linked = {
        (README.parent / t.partition("#")[0]).resolve()
        for t in targets(README.read_text(encoding="utf-8"))
        if not SCHEME.match(t)
    }
    pages = sorted(DOCS.glob("*.md"))
    assert pages, "docs/ has no pages"
    assert [p.name for p in pages if p.resolve() not in linked] == []


def test_the_checker_sees_what_github_renders(tmp_path: Path) -> None:
    assert (
        slug("Self-hosting: where `make run` keeps its state")
        == "self-hosting-where-make-run-keeps-its-state"
    )
    assert slug("Copilot++ (Tab completion)") == "copilot-tab-completion"
    assert slug("Runtime config (`POST /config`)") == "runtime-config-post-config"
    assert slug("中文快速开始") == "中文快速开始"
    assert anchors("## Errors\n\n```\n## not a heading\n```\n## Errors\n") == {"errors", "errors-1"}

    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Known part\n", encoding="utf-8")
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#known-part) [self](#page) ![img](other.md) [web](https://example.com/x#y)\n"
        "[gone](missing.md) [bad anchor](other.md#unknown) [bad self](#nowhere)\n"
        "`[not a link](missing.md)` and\n\n```\n[nor this](missing.md)\n```\n",
        encoding="utf-8",
    )
    assert [problem.split(":")[0] for problem in broken_links(page, tmp_path.resolve())] == [
        "missing.md",
        "other.md#unknown",
        "#nowhere",
    ]
