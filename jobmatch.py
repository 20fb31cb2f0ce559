"""The `jobmatch` command (placeholder replaced below)."""
def main() -> None:
    pass
