"""The local web page: ``studio`` keeps the pieces, ``web`` serves them (``grandstaff serve``)."""
