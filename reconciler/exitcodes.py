"""Exit codes are a contract (SPEC §5): CI scripts branch on them."""

EXIT_OK = 0  # success; under --detailed-exitcode also "no changes"
EXIT_ERROR = 1  # a problem the user can fix, usage errors included
EXIT_CHANGES = 2  # changes present (plan --detailed-exitcode only)
EXIT_BUG = 3  # an internal error: a bug in the reconciler
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM
