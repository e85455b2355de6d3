# Sourced by the bench/peer scripts: sets $peer to a built copy of the TorchSharp/libtorch peer
# (../../../shared/peer, read-only, so it is copied to $PEER_DIR, default /tmp/kgglm-peer, and
# built there once: the restore fetches TorchSharp, ~1.4 GB). Env: PEER_SRC, PEER_DIR.
peer_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peer_source=${PEER_SRC:-$peer_here/../../../shared/peer}
peer_work=${PEER_DIR:-/tmp/kgglm-peer}
peer=$peer_work/bin/Release/net10.0/linux-x64/peer
if [ ! -x "$peer" ]; then
    rm -rf "$peer_work"
    cp -r "$peer_source" "$peer_work"
    (cd "$peer_work" && dotnet build -c Release >&2)
fi
