package api

import "time"

// ValidateTokenCreate checks a POST /v1/tokens body and applies its
// defaults: a tenant role without a tenant acts in "default".
func ValidateTokenCreate(in *TokenCreate) error {
	if err := validateName("name", in.Name, true); err != nil {
		return err
	}
	if err := ValidateEnum("role", in.Role, Roles()); err != nil {
		return err
	}
	if in.Role == RoleAdmin {
		if in.Tenant != "" {
			return Invalid("tenant", "an admin token acts in every tenant and takes none; got %q", in.Tenant)
		}
	} else {
		if in.Tenant == "" {
			in.Tenant = DefaultTenant
		}
		if err := ValidateTenant("tenant", in.Tenant); err != nil {
			return err
		}
	}
	if in.Expires != "" {
		d, err := ParseDuration(in.Expires)
		if err != nil {
			return Invalid("expires", "%v", err)
		}
		if d < time.Minute {
			return Invalid("expires", "must be at least 1m; got %q", in.Expires)
		}
	}
	return nil
}

// ValidateTenant checks a tenant name: a lowercase DNS label, as group
// names are.
func ValidateTenant(field, tenant string) error {
	return validateName(field, tenant, true)
}
