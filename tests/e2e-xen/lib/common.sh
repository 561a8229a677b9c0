# shellcheck shell=bash
# Helpers shared by the host side of the e2e-xen harness (sourced by ./run).
# Everything big lives in the cache (CACHE), keyed so that a change of a
# Debian package version or of a harness file rebuilds only what depends on it.

E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_SRC=$(cd "$E2E_SRC/../.." && pwd)
CACHE=${PVBACK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvback-e2e}

say() { printf 'e2e: %s\n' "$*" >&2; }
die() {
    printf 'e2e: error: %s\n' "$*" >&2
    exit 2
}

# key_of WORDS...: a short stable hash of its arguments (file contents for
# existing paths, the word itself otherwise), used to name cache entries.
key_of() {
    local w
    for w in "$@"; do
        if [ -f "$w" ]; then
            printf '%s\n' "$w"
            cat "$w"
        else
            printf '%s\n' "$w"
        fi
    done | sha256sum | cut -c1-16
}

# apt_candidates PKG...: "pkg=version" lines for what apt would download now
# (one apt-cache call: each one costs a second on a busy machine).
apt_candidates() {
    local out
    out=$(apt-cache policy "$@" | awk '/^[^ ]+:$/ {p = substr($1, 1, length($1) - 1)}
        /Candidate:/ && $2 != "(none)" {print p "=" $2}')
    local p
    for p in "$@"; do
        grep -q "^$p=" <<<"$out" || die "no Debian package '$p' in the apt lists (apt-get update?)"
    done
    echo "$out"
}
