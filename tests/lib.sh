# Shared by the shell suites: one "PASS name" / "FAIL name: why" line per
# check, a scratch directory removed on exit, and $failed for the exit status.
# Sourced from the repository's top directory.
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failed=1
}
detail() { sed 's/^/  /' | head -"${1:-12}"; }
