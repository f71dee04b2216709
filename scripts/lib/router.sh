# Start a crossbar router for the length of a script, through
# tests/router/run_router.py. Sourced by scripts/demo and scripts/bench, from
# the repository root, with a `log` function defined.
#
#   router_start NAME CONFIG RUN_ROUTER_ARGS...
#       starts crossbar with the config template CONFIG (run_router.py's
#       --ws-port, --rs-port, --port ID=PORT go in RUN_ROUTER_ARGS) in a new
#       temporary directory, and waits until it is ready; on failure prints the
#       tail of its log, keeps the directory and returns 1.
#   router_stop
#       stops it (idempotent). Sourcing this file sets an EXIT trap that calls
#       it, and makes INT and TERM exit the script, so Ctrl-C stops the router
#       too; a script needing more cleanup sets its own EXIT trap after
#       sourcing, calling router_stop from it.
#   router_launcher=(taskset -c 0)
#       set before router_start: a prefix for the run_router.py command line
#       (crossbar inherits, e.g., taskset's CPU affinity).
#   router_keep_workdir=1
#       keep the router's directory (its crossbar.log) after the router stops.
#
# The wrapper is controlled over two fifos held open on fds 3 and 4; give the
# commands run while the router is up `3>&- 4<&-`, so a leftover child of
# theirs cannot hold the router up after the script is gone.

router_launcher=()
router_workdir=""
router_pid=""
router_keep_workdir=0

router_stop() {
    trap '' PIPE INT TERM
    if [[ -n "$router_pid" ]] && kill -0 "$router_pid" 2>/dev/null; then
        log "stopping the router"
        { echo quit >&3; } 2>/dev/null || true
        exec 3>&- 4<&- # EOF on its stdin stops it as well
        for _ in $(seq 1 100); do
            kill -0 "$router_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$router_pid" 2>/dev/null || true # it kills crossbar on SIGTERM
    fi
    wait 2>/dev/null || true
    router_pid=""
    if [[ -n "$router_workdir" ]]; then
        if [[ "$router_keep_workdir" == 1 ]]; then
            log "router files kept in $router_workdir"
        else
            rm -rf "$router_workdir"
        fi
        router_workdir=""
    fi
}

router_start() {
    local name="$1" config="$2"
    shift 2
    router_workdir="$(mktemp -d "${TMPDIR:-/tmp}/izaber-${name}.XXXXXX")"

    mkfifo "$router_workdir/ctl.in" "$router_workdir/ctl.out"
    log "starting crossbar ($config $*), log: $router_workdir/crossbar.log"
    ${router_launcher[@]+"${router_launcher[@]}"} .venv/bin/python tests/router/run_router.py \
        --config "$config" --workdir "$router_workdir" "$@" \
        <"$router_workdir/ctl.in" >"$router_workdir/ctl.out" &
    router_pid=$!
    # The wrapper reads commands on fd 3's fifo and answers on fd 4's.
    exec 3<>"$router_workdir/ctl.in" 4<"$router_workdir/ctl.out"

    local answer=""
    read -r -t 90 answer <&4 || true
    if [[ "$answer" != "READY" ]]; then
        log "router failed to start: ${answer:-no answer within 90 s}"
        tail -n 30 "$router_workdir/crossbar.log" >&2 2>/dev/null || true
        router_keep_workdir=1
        return 1
    fi
    log "router ready"
}

trap router_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
