"""Card applications, each a plug-in of the core selected by AID."""
