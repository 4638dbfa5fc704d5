"""The card OS core: ISO 7816-4 APDU handling, knowing nothing of any card application."""
