# x86-64's names for the shell suites (sourced by tests/lib.sh): the
# register of the first integer argument, for definitions where $argN is
# not allowed (uprobe forms, PATH:OFFSET and the kernel's uprobe_events).
PK_REG_ARG1=%di
PK_REG_ARG2=%si
# Where Debian keeps this architecture's libraries.
PK_MULTIARCH=x86_64-linux-gnu
