"""How a card reaches its clients: vpcd (pcscd's virtual reader), in-process, VirtualICC."""
