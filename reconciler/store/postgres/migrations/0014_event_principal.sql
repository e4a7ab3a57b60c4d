-- Identity (issue 17): an event's source carries the authenticated
-- principal, and the actor the client named is kept apart as on_behalf_of.
-- Events recorded before have neither.
ALTER TABLE events ADD COLUMN source_principal text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN source_on_behalf_of text NOT NULL DEFAULT '';
