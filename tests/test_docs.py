"""Every shell command that the README and the documentation site show, in a code block or inline, is one that
CI runs, or says that it needs a GPU or a cluster (a trailing `# needs a GPU`, `# needs a cluster`). An inline
synopsis with placeholders (`cwtest compare BASELINE.csv NEW.csv [--junit-xml FILE]`) is not a command.

CI runs a command when a line of .ci/run, .ci/wheel-check or .ci/docs-commands holds its words in order: the
command as shown, with options after or between them that narrow what it runs (`-k`, `--crossedwires-select`)
or keep pip quiet. tests/test_yours.py runs the README's user-model example the same way.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
CI = [REPO / ".ci" / name for name in ("run", "wheel-check", "docs-commands")]
PROGRAMS = ("pytest", "cwtest", "python", "python3.11", "pip", "tox", "bash", "mkdocs", "scripts/")
MARKS = ("# needs a GPU", "# needs a cluster")
# Shown and not run by CI, each for the reason given: the list can only shrink (a command that leaves the
# docs must leave it too), and a command new to the docs is not let in here unnoticed.
NOT_RUN = {
    "tox -e tests | suite | lint": "tox builds an environment per job: minutes of installs that CI's 90 do not leave",
    "tox -e gate-tf220 -- reports/baseline.csv": "installs TensorFlow 2.20 into an environment of its own",
    'pip install "cwtest[cpu]"': "cwtest is on no registry yet; .ci/wheel-check installs the built wheel this way",
    "python -m cwtest.frameworks.child": "the child process cwtest starts itself for a second Keras backend",
}


def _words(command: str) -> list[str]:
    """The command's words, the program named without the folder of the virtualenv that holds it."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:  # a line of a here-document's Python, not a command
        return []
    if words:
        words[0] = re.sub(r"^(?:.*/)?\.?venv/bin/", "", words[0])
    return words


def _lines(text: str, code_only: bool) -> list[str]:
    """Lines with their continuations joined; in a page, only its shell code blocks (indented by four spaces, or
    fenced without a language or as bash, sh, shell, console)."""
    found, previous, fence = [], "", None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            previous = line
            continue
        in_block = (fence in ("", "bash", "sh", "shell", "console") if fence is not None else
                    line.startswith("    ") and (previous.strip() == "" or previous.startswith("    ")))
        if code_only and not in_block:
            previous = line
            continue
        if found and found[-1].endswith("\\"):
            found[-1] = found[-1][:-1].rstrip() + " " + line.strip()
        else:
            found.append(line.strip())
        previous = line
    return found


def _inline(text: str) -> list[str]:
    """The page's inline code that is a command: a program and at least one word, no placeholder."""
    text = re.sub(r"(?ms)^```.*?^```", "", text)  # fenced blocks are code, not prose
    prose = " ".join(line for line in text.splitlines() if not line.startswith("    "))
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return [span for span in spans if re.match(r"(pytest|cwtest|python|pip|tox|bash|mkdocs|scripts/\S+) \S", span)
            and not re.search(r"[\[{<]|\.\.\.|\b[A-Z][A-Z_]{2,}\b", span.split(" # ")[0])]


def documented() -> list[tuple[str, str]]:
    """(page, command) for each shell command a page shows; a line of `a && b` is two commands."""
    commands = []
    for page in PAGES:
        text = page.read_text()
        for line in [*_lines(text, code_only=True), *_inline(text)]:
            for part in line.split(" && "):
                if part.startswith(PROGRAMS) or part.startswith(".venv/bin/"):
                    commands.append((str(page.relative_to(REPO)), part.strip()))
    return commands


def ci_commands() -> list[list[str]]:
    return [_words(part) for script in CI for line in _lines(script.read_text(), code_only=False)
            for part in line.split(" && ") if not line.startswith("#")]


def _runs(ci: list[str], shown: list[str]) -> bool:
    """Whether `ci` holds `shown`'s words in order, starting with its program."""
    if not ci or ci[0] != shown[0]:
        return False
    rest = iter(ci[1:])
    return all(word in rest for word in shown[1:])


def test_every_command_shown_is_run_by_ci_or_needs_a_gpu_or_a_cluster():
    ci = ci_commands()
    unrun = [f"{page}: {command}" for page, command in documented()
             if not command.endswith(MARKS) and command.split(" # ")[0].strip() not in NOT_RUN
             and not any(_runs(line, _words(command)) for line in ci)]
    assert not unrun, "shown in the docs, run by no CI step and marked as needing nothing:\n" + "\n".join(unrun)


def test_the_commands_not_run_are_still_shown():
    shown = {command.split(" # ")[0].strip() for _, command in documented()}
    assert not set(NOT_RUN) - shown, "no longer shown: drop them from NOT_RUN"


def test_the_check_sees_the_readme_commands():
    # The extraction itself: the README's two opening commands are four commands CI runs and one it does not.
    readme = [command for page, command in documented() if page == "README.md"]
    assert readme[:3] == ["python3.11 -m venv .venv", '.venv/bin/pip install -e ".[cpu]" -c constraints.txt',
                          ".venv/bin/pytest --crossedwires-arch vgg16 -n 2 --crossedwires-report vgg16.csv"]
    assert _runs(_words('pip install --quiet -e ".[cpu]" -c constraints.txt'), _words(readme[1]))
    assert not _runs(_words('pip install -e ".[cpu,published]" -c constraints.txt'), _words(readme[1]))


def test_every_benchmark_runs_in_ci_at_its_smoke_size():
    ci = ci_commands()
    for script in sorted((REPO / "benchmarks").glob("*.py")):
        assert ["python", f"benchmarks/{script.name}", "--smoke"] in ci, f".ci/run does not run {script.name} --smoke"
