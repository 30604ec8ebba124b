-- Today's intake of a general window (issue 6): the applications taken in at the windows of a
-- division, newest first. Only window applications are indexed.
CREATE INDEX applications_window ON applications (division_code, submitted_at) WHERE channel = 'window';
