import type { ChildControls } from '../../domain/parental-controls.js';

/** GET and PUT /v1/me/children/:externalRef/controls. */
export function controlsResource(controls: ChildControls) {
  return {
    externalRef: controls.externalRef,
    blocked: controls.blocked,
    blockedCategories: controls.blockedCategories,
    pointsAllowed: controls.pointsAllowed,
    weekly: controls.weekly.toFixed(2),
    monthly: controls.monthly.toFixed(2),
  };
}
