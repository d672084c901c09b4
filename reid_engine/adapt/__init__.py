"""Site adaptation: fine-tune the identity model on a site's unlabelled tracks (``reid adapt``)."""
