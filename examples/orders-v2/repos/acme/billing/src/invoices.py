import logging
import yaml

log = logging.getLogger(__name__)


def load_config(path):
    with open(path) as handle:
        return yaml.load(handle)


def total(rows, overrides):
    if overrides.has_key("currency"):
        log.warn("currency override in use")
    return sum(row["amt"] for row in rows)
