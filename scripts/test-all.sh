#!/usr/bin/env bash
# The whole test suite from a fresh Debian machine, as root: install, build, check the
# generated code and lint, then run the README's test command (npm test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== checking gen/ is up to date with proto/"
npm run --silent generate
if ! git diff --quiet -- gen || [ -n "$(git status --porcelain -- gen)" ]; then
  echo "gen/ is stale: run 'npm run generate' and commit" >&2
  git status --porcelain -- gen >&2
  exit 1
fi
echo "== buf lint"
npx buf lint
echo "== eslint"
npx eslint .
echo "== npm test"
npm test
