"""The public log of each call, its signed tree heads, pseudonyms and publication."""
