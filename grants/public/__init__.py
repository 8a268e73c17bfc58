"""Pages for everyone: open calls, call pages, the language picker."""
