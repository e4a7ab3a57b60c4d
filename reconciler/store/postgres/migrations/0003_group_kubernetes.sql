-- Version 3: the kubernetes driver's block of a group's configuration.
ALTER TABLE groups ADD COLUMN kubernetes jsonb;  -- api.KubernetesConfig
