// One file because the walker visits every node kind of the bash grammar, and the cross-check here proves it.
// biome-ignore-all lint/correctness/noVoidTypeReturn: `return this.…(…)` hands a node on and ends its case
import type { Node, Tree } from './shell-parser.js';
import { evaluateWord, scan, type Word } from './shell-words.js';

/** Where a command sits: what feeds its input and what control flow surrounds it. */
export interface Placement {
  /** Its input comes from a pipe, here-doc, here-string, `<` redirect or `>(…)`. */
  stdinFed: boolean;
  /** Inside a loop body or condition: it may run any number of times. */
  inLoop: boolean;
  /** Inside a function body: it runs wherever the function is called. */
  inFunction: boolean;
  /** It may or may not run (a branch, a case arm, the right side of `&&`/`||`). */
  conditional: boolean;
}

export interface SimpleCommand {
  name: Word;
  args: Word[];
  placement: Placement;
  /** Source text of the whole command, for messages. */
  text: string;
}

export interface Redirect {
  /** `>`, `>>`, `>|`, `&>`, `&>>`, `>&` (to a file), `<`, `<>`. */
  op: string;
  target: Word;
}

/** What the walker reports, in source order. The guard decides on each. */
export interface ShellVisitor {
  command(command: SimpleCommand): void;
  redirect(redirect: Redirect, placement: Placement): void;
  /** `how`: `assignment`, `prefix` (`X=1 cmd`), `for` (loop variable), `declare`, `arithmetic`. */
  assignment(name: string, value: Word | undefined, how: string, placement: Placement): void;
  functionDefinition(name: Word): void;
  enterSubshell(): void;
  leaveSubshell(): void;
  problem(code: string, message: string): void;
}

const TOP: Placement = { stdinFed: false, inLoop: false, inFunction: false, conditional: false };
const INPUT_OPS = new Set(['<', '<>', '<&']);
const REDIRECT_OPS = new Set(['>', '>>', '<', '&>', '&>>', '>&', '<&', '>|', '<>', '>&-', '<&-']);
const EXPRESSIONS = new Set([
  'binary_expression',
  'unary_expression',
  'postfix_expression',
  'ternary_expression',
  'parenthesized_expression',
  'number',
  'word',
  'string',
  'raw_string',
  'simple_expansion',
  'expansion',
  'variable_name',
  'subscript',
  'command_substitution',
  'arithmetic_expansion',
  'concatenation',
]);
/** Node types the walk must have visited, wherever they are (the cross-check). */
const CHECKED_SET: ReadonlySet<string> = new Set([
  'command',
  'command_substitution',
  'process_substitution',
  'function_definition',
  'file_redirect',
]);

/**
 * Walks a whole bash syntax tree and reports every simple command, redirection, assignment and
 * function definition to `visitor`, wherever it sits: pipelines, lists, subshells, brace groups,
 * command and process substitutions (also inside strings, expansions and here-docs), loops,
 * conditionals, case arms, function bodies. A construct it does not know is reported as
 * `shell.unaccounted`; so is any command node the walk did not reach (a cross-check over the
 * whole tree), so a gap in the walker denies instead of letting something through unseen.
 */
export function walkShell(tree: Tree, visitor: ShellVisitor) {
  const root = tree.rootNode;
  // Before anything recursive (the walk, `firstError`) looks at the tree.
  const shape = survey(tree);
  if (shape.tooDeep) {
    visitor.problem(
      'shell.too-deep',
      `the command nests more than ${MAX_SHELL_DEPTH} levels deep (substitutions, subshells, \`&&\` chains, blocks); it cannot be checked, so it is refused: split it into smaller commands`,
    );
    return;
  }
  if (root.hasError) {
    const bad = firstError(root);
    visitor.problem(
      'shell.unparsable',
      `the command does not parse as bash${bad ? ` near \`${bad.text.slice(0, 40)}\` (offset ${bad.startIndex})` : ''}; it cannot be checked, so it is refused`,
    );
    return;
  }
  const seen = new Set<number>();
  const walker = new Walker(visitor, seen);
  walker.statement(root, TOP);
  const missed = shape.checked.find((node) => !seen.has(node.id));
  if (missed)
    visitor.problem(
      'shell.unaccounted',
      `\`${missed.text.slice(0, 60)}\` (${missed.type}) sits where the guard cannot follow it; it is refused`,
    );
}

/**
 * How deep the syntax tree may nest before the guard refuses it (`shell.too-deep`). The walk
 * recurses a few frames per level; 512 levels (about 170 nested `$(…)`, or 512 commands chained by
 * `&&`) stays well inside Node's default stack, and no hand-written command comes near it.
 */
export const MAX_SHELL_DEPTH = 512;

/**
 * One iterative cursor pass before the walk: whether the tree nests deeper than
 * `MAX_SHELL_DEPTH`, and every command, substitution, function definition or file redirect in it,
 * for the cross-check after the walk. A cursor is cheaper than `descendantsOfType`, which scans
 * the grammar's type table per call.
 */
function survey(tree: Tree): { tooDeep: boolean; checked: Node[] } {
  const checked: Node[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      if (cursor.currentDepth > MAX_SHELL_DEPTH) return { tooDeep: true, checked };
      if (CHECKED_SET.has(cursor.nodeType)) checked.push(cursor.currentNode);
      if (cursor.gotoFirstChild() || cursor.gotoNextSibling()) continue;
      for (;;) {
        if (!cursor.gotoParent()) return { tooDeep: false, checked };
        if (cursor.gotoNextSibling()) break;
      }
    }
  } finally {
    cursor.delete();
  }
}

function firstError(node: Node): Node | undefined {
  if (node.isError || node.isMissing) return node;
  for (const child of node.children) {
    if (child?.hasError || child?.isMissing) return firstError(child) ?? child;
  }
  return undefined;
}

class Walker {
  constructor(
    private readonly visitor: ShellVisitor,
    private readonly seen: Set<number>,
  ) {}

  statement(node: Node, at: Placement): void {
    const v = this.visitor;
    switch (node.type) {
      case 'program':
      case 'compound_statement':
      case 'do_group':
      case 'else_clause':
        return this.each(node.namedChildren, at);
      case 'list':
        return node.namedChildren.forEach((child, i) => {
          if (child) this.statement(child, i === 0 ? at : { ...at, conditional: true });
        });
      case 'pipeline':
        return node.namedChildren.forEach((child, i) => {
          if (child) this.statement(child, i === 0 ? at : { ...at, stdinFed: true });
        });
      case 'subshell':
        v.enterSubshell();
        this.each(node.namedChildren, at);
        return v.leaveSubshell();
      case 'negated_command':
        return this.each(node.namedChildren, at);
      case 'redirected_statement':
        return this.redirected(node, at);
      case 'command':
        return this.command(node, at);
      case 'variable_assignment':
        return this.assignment(node, 'assignment', at);
      case 'variable_assignments':
        for (const c of node.namedChildren) if (c) this.assignment(c, 'assignment', at);
        return;
      case 'declaration_command':
      case 'unset_command':
        return this.declaration(node, at);
      case 'function_definition':
        return this.functionDefinition(node, at);
      case 'if_statement':
      case 'elif_clause':
      case 'case_statement':
      case 'case_item':
        return this.branches(node, at);
      case 'while_statement':
        return this.each(node.namedChildren, { ...at, inLoop: true, conditional: true });
      case 'for_statement':
      case 'c_style_for_statement':
        return this.forLoop(node, at);
      case 'test_command':
        return this.expression(node, at);
      case 'comment':
      case 'heredoc_body':
      case 'heredoc_start':
      case 'heredoc_end':
        return undefined;
      default:
        if (EXPRESSIONS.has(node.type)) return this.expression(node, at);
        return v.problem(
          'shell.unaccounted',
          `\`${node.text.slice(0, 60)}\` is a ${node.type}, which the shell guard does not check; it is refused`,
        );
    }
  }

  private each(nodes: (Node | null)[], at: Placement) {
    for (const child of nodes) if (child) this.statement(child, at);
  }

  /** `if`/`elif` and `case`: conditions, arms and patterns; every arm is conditional. */
  private branches(node: Node, at: Placement) {
    const values = new Set(node.childrenForFieldName('value').map((n) => n?.id));
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (values.has(child.id)) this.word(child, at);
      else this.statement(child, { ...at, conditional: true });
    }
  }

  private forLoop(node: Node, at: Placement) {
    const inside: Placement = { ...at, inLoop: true, conditional: true };
    if (node.type === 'for_statement') {
      const variable = node.childForFieldName('variable');
      if (variable) this.visitor.assignment(variable.text, undefined, 'for', at);
      for (const value of node.childrenForFieldName('value')) if (value) this.word(value, at);
    } else {
      for (const field of ['initializer', 'condition', 'update'])
        for (const part of node.childrenForFieldName(field)) if (part) this.expression(part, at);
    }
    const body = node.childForFieldName('body');
    if (body) this.statement(body, inside);
  }

  /** Arithmetic and test expressions: substitutions inside run; assignments inside assign. */
  private expression(node: Node, at: Placement): void {
    if (node.type === 'variable_assignment') return this.assignment(node, 'arithmetic', at);
    if (node.type === 'command_substitution' || node.type === 'process_substitution')
      return this.substitution(node, at);
    if (node.type === 'redirected_statement') return this.statement(node, at);
    if (node.type === 'binary_expression') {
      const op = node.children.find((c) => c && !c.isNamed)?.type;
      const left = node.namedChildren[0];
      // `(( PATH = 1 ))`, `(( IFS += 1 ))`: arithmetic assignment
      if (op && /^[-+*/%&|^]?=$|^(<<|>>)=$/.test(op) && left && left.type === 'variable_name')
        this.visitor.assignment(left.text, undefined, 'arithmetic', at);
    }
    for (const child of node.namedChildren) if (child) this.expression(child, at);
  }

  private word(node: Node, at: Placement): Word {
    return evaluateWord(node, (sub) => this.substitution(sub, at));
  }

  private substitution(node: Node, at: Placement) {
    this.seen.add(node.id);
    // Inside backticks bash unescapes \` and parses the text again: a nested substitution that
    // this tree shows as a plain word.
    if (node.text.startsWith('`') && node.text.slice(1, -1).includes('\\`')) {
      this.visitor.problem(
        'shell.unaccounted',
        `nested backticks in \`${node.text.slice(0, 60)}\` are parsed again by the shell; write \`$(…)\` instead`,
      );
      return;
    }
    // `>(cmd)` feeds cmd what is written to it; `<(cmd)` and `$(cmd)` run it with the outer input.
    const feeds = node.type === 'process_substitution' && node.text.startsWith('>');
    const inner: Placement = { ...at, stdinFed: feeds };
    this.visitor.enterSubshell();
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'file_redirect') this.redirect(child, inner);
      else this.statement(child, inner);
    }
    this.visitor.leaveSubshell();
  }

  private redirected(node: Node, at: Placement) {
    const redirects = node.namedChildren.filter(
      (c): c is Node =>
        c !== null && /redirect$/.test(c.type) && !c.equals(node.childForFieldName('body') ?? c),
    );
    const body = node.childForFieldName('body');
    const fed = redirects.some((r) => r.type !== 'file_redirect' || INPUT_OPS.has(operatorOf(r) ?? ''));
    const inner = fed ? { ...at, stdinFed: true } : at;
    if (body) this.statement(body, inner);
    for (const r of redirects) this.redirect(r, at);
  }

  private redirect(node: Node, at: Placement) {
    this.seen.add(node.id);
    if (node.type === 'herestring_redirect') {
      for (const c of node.namedChildren) if (c && c.type !== 'file_descriptor') this.word(c, at);
      return;
    }
    if (node.type === 'heredoc_redirect') return this.heredoc(node, at);
    if (node.type !== 'file_redirect') {
      this.visitor.problem(
        'shell.unaccounted',
        `redirection \`${node.text}\` is not understood; it is refused`,
      );
      return;
    }
    const op = operatorOf(node);
    if (!op) {
      this.visitor.problem(
        'shell.unaccounted',
        `redirection \`${node.text}\` has no operator the guard knows`,
      );
      return;
    }
    const targets = node.namedChildren.filter((c): c is Node => c !== null && c.type !== 'file_descriptor');
    for (const target of targets) {
      // `2>&1`, `>&2`, `<&0`, `>&-`: duplicating or closing descriptors touches no file.
      if ((op === '>&' || op === '<&') && /^(\d+|-)$/.test(target.text)) continue;
      this.visitor.redirect({ op, target: this.word(target, at) }, at);
    }
  }

  private heredoc(node: Node, at: Placement) {
    const right = node.childForFieldName('right');
    for (const child of node.namedChildren) {
      if (!child) continue;
      switch (child.type) {
        case 'heredoc_body':
          scan(child, (sub) => this.substitution(sub, at));
          break;
        case 'pipeline':
          // `cat <<EOF | sh`: the grammar hangs the rest of the pipeline on the here-doc.
          for (const c of child.namedChildren) if (c) this.statement(c, { ...at, stdinFed: true });
          break;
        case 'file_redirect':
        case 'herestring_redirect':
          this.redirect(child, at);
          break;
        case 'heredoc_start':
        case 'heredoc_end':
        case 'file_descriptor':
          break;
        default:
          // `cat <<EOF && rm x`: the statement after the operator.
          if (right && child.equals(right)) this.statement(child, { ...at, conditional: true });
          else this.word(child, at);
      }
    }
  }

  private command(node: Node, at: Placement) {
    this.seen.add(node.id);
    let name: Word | undefined;
    const args: Word[] = [];
    const fed =
      at.stdinFed ||
      node
        .childrenForFieldName('redirect')
        .some((r) => r !== null && (r.type !== 'file_redirect' || INPUT_OPS.has(operatorOf(r) ?? '')));
    const placement = fed ? { ...at, stdinFed: true } : at;
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'variable_assignment') this.assignment(child, 'prefix', at);
      else if (child.type === 'command_name') {
        const inner = child.namedChildren[0];
        name = inner ? this.word(inner, at) : undefined;
      } else if (child.type === 'file_redirect' || child.type === 'herestring_redirect')
        this.redirect(child, at);
      else if (name) args.push(this.word(child, at));
      else {
        this.visitor.problem(
          'shell.unaccounted',
          `\`${child.text.slice(0, 60)}\` before the command name is not understood`,
        );
        return;
      }
    }
    if (!name) return;
    this.visitor.command({ name, args, placement, text: node.text });
  }

  private assignment(node: Node, how: string, at: Placement) {
    if (node.type !== 'variable_assignment') {
      this.visitor.problem('shell.unaccounted', `\`${node.text.slice(0, 60)}\` is not a plain assignment`);
      return;
    }
    const nameNode = node.childForFieldName('name');
    const valueNode = node.childForFieldName('value');
    const name =
      nameNode?.type === 'subscript' ? (nameNode.namedChildren[0]?.text ?? '') : (nameNode?.text ?? '');
    if (nameNode?.type === 'subscript') scan(nameNode, (sub) => this.substitution(sub, at));
    const value = valueNode ? this.word(valueNode, at) : undefined;
    this.visitor.assignment(name, value, how, at);
  }

  /** `export X=1`, `declare -x X=1`, `local X`, `readonly X`, `unset X`: a command plus assignments. */
  private declaration(node: Node, at: Placement) {
    const keyword = node.children[0]?.text ?? node.type;
    const args: Word[] = [];
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'variable_assignment') {
        this.assignment(child, 'declare', at);
        args.push({ text: child.text, value: child.text, dynamic: false, expands: false, ansiC: false });
      } else if (child.type === 'variable_name') {
        // `unset PATH` too: bash then searches a default path that can include the directory.
        this.visitor.assignment(child.text, undefined, keyword === 'unset' ? 'unset' : 'declare', at);
        args.push({ text: child.text, value: child.text, dynamic: false, expands: false, ansiC: false });
      } else args.push(this.word(child, at));
    }
    const name: Word = { text: keyword, value: keyword, dynamic: false, expands: false, ansiC: false };
    this.visitor.command({ name, args, placement: at, text: node.text });
  }

  private functionDefinition(node: Node, at: Placement) {
    this.seen.add(node.id);
    const nameNode = node.childForFieldName('name');
    if (nameNode) this.visitor.functionDefinition(this.word(nameNode, at));
    const inside: Placement = { ...at, inFunction: true, conditional: true };
    for (const child of node.namedChildren) {
      if (!child || child.equals(nameNode ?? child)) continue;
      if (/redirect$/.test(child.type)) this.redirect(child, inside);
      else this.statement(child, inside);
    }
  }
}

function operatorOf(node: Node): string | undefined {
  for (const child of node.children)
    if (child && !child.isNamed && REDIRECT_OPS.has(child.type)) return child.type;
  return undefined;
}
