-- Indexes of the department queue (issue 5: the first 50 open cases of a department, sorted by
-- due date, filtered or not, in p99 ≤ 20 ms with 10 million cases). All are partial on open
-- cases, which are a few percent of all cases, so they stay small and cheap to maintain.
--
-- cases_queue is rebuilt to carry the filter columns after its key: a filter the query has no
-- dedicated index for (a division prefix, a state together with a warning…) is checked on the
-- index entries while walking them in due-date order, without reading the table rows that do
-- not match. A filter that matches few of a department's open cases gets its own index with
-- the filter column between the department and the sort key, so that its first 50 rows are
-- the first 50 entries of one index range.
DROP INDEX cases_queue;
CREATE INDEX cases_queue ON cases (department_code, due_on, number, warning, state, item_code, division_code) WHERE closed = 0;
CREATE INDEX cases_queue_warning ON cases (department_code, warning, due_on, number) WHERE closed = 0;
CREATE INDEX cases_queue_state ON cases (department_code, state, due_on, number) WHERE closed = 0;
CREATE INDEX cases_queue_item ON cases (department_code, item_code, due_on, number) WHERE closed = 0;
