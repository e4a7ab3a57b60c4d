-- Version 4: the kubernetes driver's block of a group's configuration.
ALTER TABLE groups ADD COLUMN kubernetes TEXT;  -- JSON api.KubernetesConfig
