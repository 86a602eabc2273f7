#!/usr/bin/env bash
# Set up what `make lab` and `make test` need, installing only what is missing.
#
#   scripts/setup.sh venv        .venv built with uv, omnilab installed into it editable with [test]
#   scripts/setup.sh system [--require|--want] graphviz chromium
#                                the Graphviz `dot` program and Chromium (for the browser tests),
#                                installed with apt in one go when root or passwordless sudo allows
#
# When a system package cannot be installed it prints the install command for each platform; for
# one listed after --require it then exits non-zero, after --want (the default) it only warns.
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

# Install Debian packages in one transaction; fails when apt cannot be used here.
apt_install() {
    local runner
    runner=$(apt_runner) || return 1
    say "apt-get update && apt-get install $*"
    $runner env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    $runner env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

setup_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $PYTHON"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -x "$VENV/bin/uv" ]; then
        say "installing uv (the package installer) into $VENV"
        # (some machines' pip configuration names local indexes that do not exist: drop that noise)
        "$VENV/bin/pip" install -q --disable-pip-version-check uv \
            2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    fi
    say "installing omnilab (editable, with the test extra) and its dependencies into $VENV"
    say "(about a minute on a fresh machine; uv shows its progress, then lists what it installed)"
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" -e '.[test]'
}

chromium_path() { echo "${OMNILAB_CHROMIUM:-/usr/bin/chromium}"; }

# present WHAT: is the program there?  (WHAT is graphviz or chromium)
present() {
    case "$1" in
        graphviz) command -v dot >/dev/null 2>&1 ;;
        chromium) [ -x "$(chromium_path)" ] ;;
    esac
}

# explain WHAT REQUIRED: say how to install it by hand; fail when it is required.
explain() {
    case "$1" in
        graphviz)
            say "the Graphviz 'dot' program is missing and I cannot install it here. Install it with one of:"
            say "    Debian/Ubuntu:  sudo apt-get install graphviz"
            say "    macOS:          brew install graphviz"
            say "    conda:          conda install -c conda-forge graphviz"
            if [ "$2" = 1 ]; then
                say "the notebooks draw diagrams with dot, so the tests cannot pass without it"
                return 1
            fi
            say "continuing: the notebooks open, but cells that draw diagrams fail until dot is installed"
            ;;
        chromium)
            say "Chromium is missing at $(chromium_path) and I cannot install it here. Install it with:"
            say "    Debian/Ubuntu:  sudo apt-get install chromium"
            say "or point OMNILAB_CHROMIUM at a Chromium or Chrome binary."
            if [ "$2" = 1 ]; then
                say "the browser tests are required here (CI is set), so I stop"
                return 1
            fi
            say "continuing: the browser tests will be skipped (they fail instead when CI is set)"
            ;;
    esac
}

# setup_system [--require|--want] WHAT...: install every missing WHAT in one apt transaction.
# (Plain bash 3 on purpose: macOS ships it.)
setup_system() {
    local required=0 what missing=() required_missing=" " ok=0
    for what in "$@"; do
        case "$what" in
            --require) required=1 ;;
            --want) required=0 ;;
            graphviz|chromium)
                if ! present "$what"; then
                    missing+=("$what")
                    [ "$required" = 1 ] && required_missing+="$what "
                fi
                ;;
            *) usage ;;
        esac
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    apt_install "${missing[@]}" || true
    for what in "${missing[@]}"; do
        if ! present "$what"; then
            case "$required_missing" in
                *" $what "*) explain "$what" 1 || ok=1 ;;
                *) explain "$what" 0 ;;
            esac
        fi
    done
    return "$ok"
}

usage() {
    echo "usage: $0 venv | system [--require|--want] graphviz|chromium ..." >&2
    exit 2
}

case "${1:-}" in
    venv) setup_venv ;;
    system) shift; setup_system "$@" ;;
    *) usage ;;
esac
