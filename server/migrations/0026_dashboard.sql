-- The staff home: the whole book's figures (aging, cash per week, DSO, the customers most past
-- due) computed in the background every few minutes and when the seller's day moves on, and
-- read by every view of the dashboard as one row, so no view adds up the book.
CREATE TABLE dashboard_snapshot (
    id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    day         DATE NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    figures     JSONB NOT NULL
);

-- The receivables at the end of a month gone by (its aging's open balance), for the DSO of
-- past months: the aging of a day months ago reads every payment since, so each is kept for a
-- day rather than added up again every few minutes (a month gone by hardly moves; a late ERP
-- import moves it within the day).
CREATE TABLE receivables_month_ends (
    day         DATE PRIMARY KEY,
    open        NUMERIC(16,2) NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
