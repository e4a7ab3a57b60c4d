-- Billing (issue 19): a group's billing and every billing it has had, so
-- a change of price applies from its time on.
ALTER TABLE groups ADD COLUMN billing TEXT;          -- JSON api.Billing
ALTER TABLE groups ADD COLUMN billing_history TEXT;  -- JSON []api.BillingRate
