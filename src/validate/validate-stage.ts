import type { Stage } from '../policy/context.js';
import { validateAction, validationReason } from './validate.js';

/** Stage 2: the action has the right shape for its type, or it is denied naming the field. */
export function validateStage(): Stage {
  return {
    name: 'validate',
    run: function validate(ctx) {
      const result = validateAction(ctx.input);
      if (!result.ok) return validationReason(result);
      ctx.action = result.action;
      return undefined;
    },
  };
}
