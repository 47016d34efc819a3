# Sourced: sets AMPHI_CACHE to the project's cache (outside the checkout, shared by clones).
: "${AMPHI_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/amphi}"
export AMPHI_CACHE
mkdir -p "$AMPHI_CACHE"
