// The subset of Python's pickle virtual machine that torch.save writes (protocols 2–4): enough to walk a
// checkpoint's dicts, tuples and tensor rebuild calls without running any Python. Globals are never
// imported: they become PyGlobal markers, and calls on them are handed to the caller's `reduce` hook
// (unknown ones become inert PyObject records), so a hostile pickle can only build plain data.
import { CheckpointError } from './errors';

/** A reference to a Python global (`module.name`), e.g. `collections.OrderedDict`. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling a global we do not model: kept as data (callable, arguments, state). */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly callable: PyGlobal,
    readonly args: readonly unknown[],
  ) {}
}

export interface UnpickleHooks {
  /** Resolves a BINPERSID id (torch: `('storage', type, key, location, numel)`). */
  persistentLoad?: (pid: unknown) => unknown;
  /** Handles `callable(*args)`; return undefined to keep it as a PyObject. */
  reduce?: (callable: PyGlobal, args: readonly unknown[]) => unknown;
}

const MARK = Symbol('mark');

/** Opcode names for error messages. */
const OPNAMES: Record<number, string> = {
  0x50: 'PERSID',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x92: 'NEWOBJ_EX',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function isMark(x: unknown): x is typeof MARK {
  return x === MARK;
}

/** Runs a pickle program and returns the object it builds. */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks = {}): unknown {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const need = (n: number) => {
    if (pos + n > bytes.length) throw new CheckpointError('The checkpoint pickle is truncated.');
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), v.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), v.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), v.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const n = v.getBigUint64(pos, true);
    pos += 8;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError('A pickle length is too large.');
    return Number(n);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new CheckpointError('The checkpoint pickle is truncated.');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (!stack.length) throw new CheckpointError('The checkpoint pickle pops an empty stack.');
    return stack.pop();
  };
  const top = () => {
    if (!stack.length) throw new CheckpointError('The checkpoint pickle reads an empty stack.');
    return stack[stack.length - 1];
  };
  /** Pops everything down to the last MARK (removed) and returns it in order. */
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--)
      if (isMark(stack[i])) {
        const items = stack.slice(i + 1);
        stack.length = i;
        return items;
      }
    throw new CheckpointError('The checkpoint pickle has no MARK where one is needed.');
  };
  const asDict = (x: unknown): Map<unknown, unknown> => {
    if (x instanceof Map) return x;
    throw new CheckpointError('The checkpoint pickle sets an item on something that is not a dict.');
  };
  const asList = (x: unknown): unknown[] => {
    if (Array.isArray(x)) return x;
    throw new CheckpointError('The checkpoint pickle appends to something that is not a list.');
  };
  const getMemo = (i: number) => {
    if (!memo.has(i)) throw new CheckpointError(`The checkpoint pickle reads memo ${i} before writing it.`);
    return memo.get(i);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal))
      throw new CheckpointError('The checkpoint pickle calls something that is not a global.');
    const list = Array.isArray(args) ? args : [];
    const r = hooks.reduce?.(fn, list);
    return r === undefined ? new PyObject(fn, list) : r;
  };
  const signedLE = (b: Uint8Array): number | bigint => {
    if (!b.length) return 0;
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) n -= 1n << BigInt(8 * b.length);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(signedLE(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLE(take(i32())));
        break;
      case 0x49: {
        // INT (text): also how protocol 0 spells booleans
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number.parseInt(line().replace(/L$/, ''), 10));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        stack.push(v.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const x = pop();
        asList(top()).push(x);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        asList(top()).push(...items);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        asDict(top()).set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = asDict(top());
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x8f: // EMPTY_SET (kept as a list)
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        asList(top()).push(...items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(new PyGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw new CheckpointError(
            'The checkpoint pickle names a global with something other than strings.',
          );
        stack.push(new PyGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: state onto the object; dicts (OrderedDict's _metadata) keep their items only.
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad)
          throw new CheckpointError('The checkpoint pickle refers to external data where none is available.');
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(getMemo(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(getMemo(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(getMemo(Number.parseInt(line(), 10)));
        break;
      default: {
        const name = OPNAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
        throw new CheckpointError(
          `Unsupported pickle opcode ${name} at byte ${at} of the checkpoint's data.pkl.`,
        );
      }
    }
  }
}
