#!/usr/bin/env bash
# Set up what `make lab` and `make test` need, installing only what is missing.
#
#   scripts/setup.sh venv                 .venv built with uv, omnilab installed editable with [test]
#   scripts/setup.sh graphviz [--required] the Graphviz `dot` binary (apt, when root or passwordless sudo)
#   scripts/setup.sh chromium [--required] Chromium for the browser tests (apt, likewise)
#
# Without a way to install system packages it prints the install command for each platform; with
# --required it then exits non-zero, otherwise it only warns.
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

say() { printf 'omnilab setup: %s\n' "$*" >&2; }

# How to run apt-get here: directly as root, through sudo when it needs no password, else nothing.
apt_runner() {
    if ! command -v apt-get >/dev/null 2>&1; then
        return 1
    elif [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo "sudo -n"
    else
        return 1
    fi
}

APT_UPDATED=""
apt_install() {
    local runner
    runner=$(apt_runner) || return 1
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        $runner env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    $runner env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

setup_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $PYTHON"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -x "$VENV/bin/uv" ]; then
        # (some machines' pip configuration names local indexes that do not exist: drop that noise)
        "$VENV/bin/pip" install -q --disable-pip-version-check uv \
            2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    fi
    say "installing omnilab (editable, with the test extra) into $VENV"
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -e '.[test]'
}

setup_graphviz() {
    local required=$1
    command -v dot >/dev/null 2>&1 && return 0
    if apt_install graphviz && command -v dot >/dev/null 2>&1; then
        return 0
    fi
    say "the Graphviz 'dot' program is missing and I cannot install it here. Install it with one of:"
    say "    Debian/Ubuntu:  sudo apt-get install graphviz"
    say "    macOS:          brew install graphviz"
    say "    conda:          conda install -c conda-forge graphviz"
    if [ "$required" = 1 ]; then
        say "the notebooks draw diagrams with dot, so the tests cannot pass without it"
        exit 1
    fi
    say "continuing: the notebooks open, but cells that draw diagrams will fail until dot is installed"
}

chromium_path() {
    if [ -n "${OMNILAB_CHROMIUM:-}" ]; then
        echo "$OMNILAB_CHROMIUM"
    else
        echo /usr/bin/chromium
    fi
}

setup_chromium() {
    local required=$1
    [ -x "$(chromium_path)" ] && return 0
    if apt_install chromium && [ -x "$(chromium_path)" ]; then
        return 0
    fi
    say "Chromium is missing at $(chromium_path) and I cannot install it here. Install it with:"
    say "    Debian:  sudo apt-get install chromium"
    say "or point OMNILAB_CHROMIUM at a Chromium or Chrome binary."
    if [ "$required" = 1 ]; then
        exit 1
    fi
    say "continuing: the browser tests will be skipped (they fail instead when CI is set)"
}

required=0
[ "${2:-}" = "--required" ] && required=1
case "${1:-}" in
    venv) setup_venv ;;
    graphviz) setup_graphviz "$required" ;;
    chromium) setup_chromium "$required" ;;
    *)
        echo "usage: $0 venv | graphviz [--required] | chromium [--required]" >&2
        exit 2
        ;;
esac
