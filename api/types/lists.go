package types

import (
	"errors"
	"fmt"
)

// ErrWrongItemType: SetItems got an object of another kind than the list's.
var ErrWrongItemType = errors.New("object is not of the list's item type")

// itemsOf returns pointers to the elements of items as Objects.
func itemsOf[T any, PT interface {
	*T
	Object
}](items []T) []Object {
	out := make([]Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}

// setItems replaces *dst with copies of objs.
func setItems[T any, PT interface {
	*T
	Object
}](dst *[]T, objs []Object) error {
	items := make([]T, len(objs))
	for i, o := range objs {
		p, ok := o.(PT)
		if !ok || p == nil {
			return fmt.Errorf("item %d is %T, want %T: %w", i, o, PT(nil), ErrWrongItemType)
		}
		items[i] = *p
	}
	*dst = items
	return nil
}

// GetItems implements ObjectList.
func (l *PodList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *PodList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *NamespaceList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *NamespaceList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *NodeList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *NodeList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *EventList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *EventList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *ConfigMapList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *ConfigMapList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *SecretList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *SecretList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *ServiceAccountList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *ServiceAccountList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *ServiceList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *ServiceList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *EndpointsList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *EndpointsList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *DeploymentList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *DeploymentList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *ReplicaSetList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *ReplicaSetList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *StatefulSetList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *StatefulSetList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *DaemonSetList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *DaemonSetList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *ControllerRevisionList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *ControllerRevisionList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *JobList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *JobList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *CronJobList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *CronJobList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *HorizontalPodAutoscalerList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *HorizontalPodAutoscalerList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *IngressList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *IngressList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }

// GetItems implements ObjectList.
func (l *RuntimeClassList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *RuntimeClassList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }
