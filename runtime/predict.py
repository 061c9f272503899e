"""``har predict`` (placeholder until the runtime lands)."""


def add_parser(sub):
    sub.add_parser("predict", help="per-window predictions of recordings, as CSV")


def run(args):
    raise NotImplementedError
