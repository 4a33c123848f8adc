"""Sources beyond the seeds folder: the publisher's feeds and article pages over HTTP."""
