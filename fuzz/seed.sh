#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's fixtures, examples and rules.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/rewrite corpus/rule_yaml corpus/migrate corpus/fleet_yaml corpus/outline
find ../fixtures ../examples -type f \( -name '*.py' -o -name '*.java' \) | while read -r file; do
  cp "$file" "corpus/rewrite/$(echo "$file" | tr '/.' '__')"
  cp "$file" "corpus/outline/$(echo "$file" | tr '/.' '__')"
done
find ../fixtures/specs ../examples -type f \( -name '*.py' -o -name '*.java' -o -name '*.sql' \) | while read -r file; do
  cp "$file" "corpus/migrate/$(echo "$file" | tr '/.' '__')"
done
find ../rules -type f -name '*.yml' | while read -r file; do
  cp "$file" "corpus/rule_yaml/$(echo "$file" | tr '/.' '__')"
done
find ../examples ../fixtures/specs -type f \( -name '*.yaml' -o -name 'spec.yml' \) | while read -r file; do
  cp "$file" "corpus/fleet_yaml/$(echo "$file" | tr '/.' '__')"
done
echo "seeded $(ls corpus/rewrite | wc -l) rewrite and outline inputs, $(ls corpus/migrate | wc -l) migration inputs $(ls corpus/rule_yaml | wc -l) rule files and $(ls corpus/fleet_yaml | wc -l) catalogs and specs"
