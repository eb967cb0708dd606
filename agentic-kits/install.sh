#!/usr/bin/env bash
# Install the sme2prof skill files for an AI coding assistant (see --help).
set -euo pipefail

KIT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$(dirname "$KIT_DIR")"
TARGETS="all"
DRY_RUN=0
FORCE=0

usage() {
  cat <<'USAGE'
usage: bash agentic-kits/install.sh [--for claude|cursor|copilot|codex|all] [--dest DIR] [--dry-run] [--force]

Copies agentic-kits/skills/*/skill.md into the places each assistant reads:
  claude   .claude/skills/<name>/SKILL.md
  cursor   .cursor/rules/<name>.mdc
  copilot  .github/instructions/<name>.instructions.md
  codex    a marked sme2prof section in AGENTS.md (kept up to date between markers)
A file that exists and differs is skipped (use --force to replace it).

options:
  --for LIST   comma-separated assistants, or all (default: all)
  --dest DIR   project folder to install into (default: the learning path folder)
  --dry-run    print what would be written; write nothing
  --force      replace files that exist and differ

examples:
  bash agentic-kits/install.sh --dry-run
  bash agentic-kits/install.sh --for claude,cursor
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --for) TARGETS="${2:?--for needs a value}"; shift 2 ;;
    --dest) DEST="${2:?--dest needs a folder}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1" >&2; echo "  fix: see bash agentic-kits/install.sh --help" >&2; exit 2 ;;
  esac
done
[[ "$TARGETS" == "all" ]] && TARGETS="claude,cursor,copilot,codex"
for t in ${TARGETS//,/ }; do
  case "$t" in claude|cursor|copilot|codex) ;;
    *) echo "error: unknown assistant '$t'" >&2; echo "  fix: use claude, cursor, copilot, codex or all" >&2; exit 2 ;;
  esac
done
if [[ ! -d "$DEST" ]]; then
  echo "error: destination $DEST does not exist" >&2; echo "  fix: pass an existing folder to --dest" >&2; exit 2
fi

field() {  # field <file> <key>: one front matter value
  awk -v key="$2" 'NR==1 && $0=="---" {fm=1; next} fm && $0=="---" {exit}
    fm && index($0, key": ")==1 {print substr($0, length(key)+3); exit}' "$1"
}
body() {  # body <file>: everything after the front matter
  awk 'NR==1 && $0=="---" {fm=1; next} fm==1 && $0=="---" {fm=2; next} fm!=1 {print}' "$1"
}
put() {  # put <path> <content>: write unless it exists and differs (then skip or --force)
  local path="$1" content="$2"
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
    echo "up to date  ${path#"$DEST"/}"; return
  fi
  if [[ -f "$path" && $FORCE -eq 0 ]]; then
    echo "skipped     ${path#"$DEST"/} (exists and differs; --force replaces it)"; return
  fi
  echo "write       ${path#"$DEST"/}"
  if [[ $DRY_RUN -eq 0 ]]; then
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" > "$path.tmp.$$" && mv "$path.tmp.$$" "$path"
  fi
}

# Every assistant picks a skill by its description, and the sme2prof- prefix keeps the
# kit's skills apart from the user's own: refuse the whole install (nothing written)
# when one skill lacks either, rather than install a skill no assistant would pick.
bad=0
for skill in "$KIT_DIR"/skills/*/skill.md; do
  rel="agentic-kits/${skill#"$KIT_DIR"/}"
  name="$(field "$skill" name)"
  if [[ ! "$name" =~ ^sme2prof-[a-z0-9-]+$ ]]; then
    echo "error: $rel: front matter name '${name}' does not start with sme2prof- (lower-case letters, digits, -)" >&2
    echo "  fix: set 'name: sme2prof-$(basename "$(dirname "$skill")")' in its front matter" >&2
    bad=1
  fi
  if [[ -z "$(field "$skill" description)" ]]; then
    echo "error: $rel: front matter has no description (assistants choose a skill by it)" >&2
    echo "  fix: add 'description: <what it does; when to use it>' to its front matter" >&2
    bad=1
  fi
done
[[ $bad -eq 0 ]] || exit 2

agents_section=""
for skill in "$KIT_DIR"/skills/*/skill.md; do
  name="$(field "$skill" name)"
  description="$(field "$skill" description)"
  rel="agentic-kits/${skill#"$KIT_DIR"/}"
  for t in ${TARGETS//,/ }; do
    case "$t" in
      claude) put "$DEST/.claude/skills/$name/SKILL.md" "$(cat "$skill")" ;;
      cursor) put "$DEST/.cursor/rules/$name.mdc" "$(printf -- '---\ndescription: %s\nalwaysApply: false\n---\n%s' "$description" "$(body "$skill")")" ;;
      copilot) put "$DEST/.github/instructions/$name.instructions.md" "$(printf -- '---\napplyTo: "**"\ndescription: %s\n---\n%s' "$description" "$(body "$skill")")" ;;
    esac
  done
  agents_section+="- \`$rel\` ($name): $description"$'\n'
done

if [[ ",$TARGETS," == *",codex,"* ]]; then
  begin="<!-- sme2prof skills: begin -->"
  end="<!-- sme2prof skills: end -->"
  section="$begin
## sme2prof skills
Before profiling work in this folder, read the matching skill file and follow its validation gates:
${agents_section}$end"
  agents="$DEST/AGENTS.md"
  if [[ -f "$agents" ]] && grep -qF "$begin" "$agents"; then
    new="$(awk -v b="$begin" -v e="$end" -v s="$section" '$0==b {print s; skip=1; next} $0==e {skip=0; next} !skip {print}' "$agents")"
  elif [[ -f "$agents" ]]; then
    new="$(cat "$agents")"$'\n\n'"$section"
  else
    new="$section"
  fi
  FORCE=1 put "$agents" "$new"
fi
[[ $DRY_RUN -eq 1 ]] && echo "dry run: nothing was written"
exit 0
