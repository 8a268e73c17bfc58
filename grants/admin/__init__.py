"""The site administrator's pages: funders, officers, outbox, audit log."""
