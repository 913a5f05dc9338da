"""ubusd's wire protocol in pure Python (libubus client side)."""
