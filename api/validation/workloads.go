package validation

import "github.com/wharfhq/wharf/api/types"

// defaultWorkload fills the defaults of the apps, batch, autoscaling,
// networking and node kinds.
func defaultWorkload(obj types.Object) {}

func validateWorkload(obj types.Object) ErrorList { return nil }

func validateWorkloadUpdate(obj, old types.Object) ErrorList { return nil }

func validateWorkloadStatus(obj types.Object) ErrorList { return nil }
