"""The docs cannot rot: every YAML example of docs/app-format.md loads with
`restd check`, its seed.json example is accepted, the loader's messages it
quotes are the ones restd prints, and the README's command-line summary
matches `restd --help`.

Complete apps (an example with `app:` and `models:`) are checked as written.
A fragment is merged into a small base app that has the fields the fragments
name (see BASE), at the place its first key says (PLACES), so a fragment that
stops loading fails here. Skeletons that show a key's shape with `{...}` or
`[...]` are only parsed as YAML.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness import assert_no_sanitizer_report, restd_bin, sanitizer_env

REPO = Path(__file__).resolve().parents[2]
APP_FORMAT = REPO / "docs" / "app-format.md"
README = REPO / "README.md"

# What a fragment may name: people who sign in, projects with a team,
# tasks and notes that point at them (the row-scope examples), and the
# fields the field, index and computed examples use.
BASE = {
    "app": {"name": "docs", "base_path": "/api", "versions": [1, 2]},
    "models": {
        "person": {"fields": {
            "email": {"type": "string", "required": True, "unique": True},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "role": {"type": "enum", "values": ["admin", "manager", "user", "supervisor"],
                     "default": "user"},
            "active": {"type": "boolean", "default": True},
        }},
        "project": {"fields": {
            "name": {"type": "string", "required": True},
            "code": {"type": "string"},
            "status": {"type": "enum", "values": ["open", "closed"]},
            "starts_on": {"type": "date"},
            "team": {"type": "ref_list", "model": "person"},
        }},
        "task": {"fields": {
            "title": {"type": "string"},
            "project_id": {"type": "ref", "model": "project"},
        }},
        "note": {"fields": {
            "body": {"type": "text"},
            "author": {"type": "ref", "model": "person"},
        }},
    },
    "auth": {"users": "person", "login_field": "email", "role_field": "role",
             "active_field": "active"},
}

# Where a fragment goes, by its first key: a top-level section is merged at
# the top, `versions` into app:, `fields`/`indexes` into the project model;
# any other key is a field definition of person.
PLACES = {
    "app": (), "models": (), "auth": (),
    "versions": ("app",),
    "fields": ("models", "project"),
    "indexes": ("models", "project"),
}
FIELD_PLACE = ("models", "person", "fields")


def blocks(lang):
    """(line, text) of every fenced block of docs/app-format.md in lang."""
    text = APP_FORMAT.read_text()
    return [(text[:m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(r"^```" + lang + r"\n(.*?)^```", text, flags=re.S | re.M)]


YAML_BLOCKS = blocks("yaml")


def is_skeleton(text):
    return "{...}" in text or "[...]" in text


def merge(into, frag):
    for k, v in frag.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


def placed(frag):
    first = next(iter(frag))
    path = PLACES.get(first, FIELD_PLACE)
    app = json.loads(json.dumps(BASE))  # a deep copy
    node = app
    for k in path:
        node = node[k]
    merge(node, frag)
    return app


def check(tmp_path, yaml_text, seed=None):
    d = tmp_path / "app"
    d.mkdir(exist_ok=True)
    (d / "app.yaml").write_text(yaml_text)
    if seed is not None:
        (d / "seed.json").write_text(seed)
    p = subprocess.run([restd_bin(), "check", "--app", str(d)], capture_output=True, text=True,
                       env=sanitizer_env(), timeout=30, stdin=subprocess.DEVNULL)
    assert_no_sanitizer_report(p.stderr, "restd check")
    return p


def test_the_examples_are_found():
    # If the fence style changed and nothing matched, every test below would
    # pass vacuously.
    assert len(YAML_BLOCKS) >= 10
    assert sum(1 for _, t in YAML_BLOCKS if is_complete(t)) >= 2
    assert len(blocks("json")) >= 1


def is_complete(text):
    doc = yaml.safe_load(text)
    return isinstance(doc, dict) and "app" in doc and "models" in doc


@pytest.mark.parametrize("line,text", YAML_BLOCKS, ids=[f"line{n}" for n, _ in YAML_BLOCKS])
def test_yaml_example_loads(tmp_path, line, text):
    if is_skeleton(text):
        assert isinstance(yaml.safe_load(text), dict), f"app-format.md:{line}: not a mapping"
        return
    if is_complete(text):
        app_yaml = text  # as written: quoting and comments untouched
    else:
        app_yaml = yaml.safe_dump(placed(yaml.safe_load(text)), sort_keys=False)
    p = check(tmp_path, app_yaml)
    assert p.returncode == 0, f"docs/app-format.md:{line}: the example does not load:\n{p.stderr}\n{app_yaml}"
    assert p.stdout.endswith("ok (%d models)\n" % len(yaml.safe_load(app_yaml)["models"])), p.stdout


def test_a_broken_example_fails(tmp_path):
    # The check above can fail: the complete example with one key misspelt.
    text = [t for _, t in YAML_BLOCKS if is_complete(t)][-1]
    p = check(tmp_path, text.replace("max_length:", "max_lenght:", 1))
    assert p.returncode == 1, p.stdout
    assert "unknown key 'max_lenght'" in p.stderr, p.stderr


def test_seed_example_is_accepted(tmp_path):
    # The seed.json example against models with the fields its rows use.
    (line, seed), = blocks("json")
    rows = json.loads(seed)
    models = {name: {"fields": {k: {"type": "string"} for r in rs for k in r}}
              for name, rs in rows.items()}
    app_yaml = yaml.safe_dump({"app": {"name": "seeded"}, "models": models}, sort_keys=False)
    p = check(tmp_path, app_yaml, seed)
    assert p.returncode == 0, f"docs/app-format.md:{line}: the seed example is refused:\n{p.stderr}"
    # and a bad row in it is refused, naming the row
    bad = json.loads(seed)
    first = next(iter(bad))
    bad[first][0]["nope"] = 1
    p = check(tmp_path, app_yaml, json.dumps(bad))
    assert p.returncode == 1 and f"{first} row 1" in p.stderr, p.stderr


def quoted_problem(start):
    """The message of the sample problem line that starts with start."""
    text = APP_FORMAT.read_text()
    m = re.search(r"^\S+app\.yaml:\d+:\d+: (" + re.escape(start) + r".*)$", text, flags=re.M)
    assert m, f"no sample problem line starting {start!r} in app-format.md"
    return m.group(1)


@pytest.mark.parametrize("start,app_yaml", [
    ("unknown key 'colour' in app",
     "app:\n  name: x\n  colour: red\nmodels:\n  m:\n    fields:\n      a: {type: string}\n"),
    ("type: unknown type 'strin'",
     "app:\n  name: x\nmodels:\n  m:\n    fields:\n      a: {type: strin}\n"),
])
def test_quoted_messages_are_current(tmp_path, start, app_yaml):
    # The sample problems list the known keys and types: they must be the
    # lists restd prints today.
    p = check(tmp_path, app_yaml)
    assert p.returncode == 1
    assert ": " + quoted_problem(start) + "\n" in p.stderr, p.stderr


def squash(s):
    return " ".join(s.split())


def test_readme_command_line_matches_help():
    p = subprocess.run([restd_bin(), "--help"], capture_output=True, text=True,
                       env=sanitizer_env(), timeout=10)
    assert p.returncode == 0
    usage = [squash(l.replace("usage:", "")) for l in p.stdout.split("\n\n")[0].splitlines()]
    text = README.read_text()
    m = re.search(r"^## Command line\n+```\n(.*?)^```", text, flags=re.S | re.M)
    assert m, "README.md has no command-line block"
    readme = [squash(l) for l in m.group(1).splitlines() if l.strip()]
    # each usage line of --help, continuation lines joined to their command
    assert readme == usage, f"README:\n{readme}\n--help:\n{usage}"
    # every option --help lists has a row in the README's option table
    for opt in sorted(set(re.findall(r"^\s+(--[a-z-]+)", p.stdout, flags=re.M))):
        assert re.search(r"^\| `" + re.escape(opt) + r"[ `]", text, flags=re.M), \
            f"README's option table has no row for {opt}"


def heading_anchors(path):
    """GitHub's anchors for the headings of a Markdown file (fences skipped)."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    out = set()
    for h in re.findall(r"^#+\s+(.*?)\s*$", text, flags=re.M):
        out.add(re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-"))
    return out


DOCS = [README] + sorted((REPO / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_intra_doc_links_resolve(doc):
    # Every relative link names a file that exists and, with #anchor, a
    # heading of it.
    bad = []
    for link in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists():
            bad.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path):
            bad.append(f"{link}: no heading with that anchor")
    assert not bad, f"{doc.name}: " + "; ".join(bad)


def test_decisions_are_numbered_in_order():
    # Sections written in parallel must not share or skip a number.
    nums = [int(n) for n in re.findall(r"^## (\d+)\. ", (REPO / "docs" / "decisions.md").read_text(),
                                       flags=re.M)]
    assert nums and nums == list(range(1, len(nums) + 1)), nums
