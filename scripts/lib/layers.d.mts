export declare const LAYERS: Record<string, number>;
export declare const CONTRACT_ONLY: Record<string, string[]>;
export declare function forbiddenFor(folder: string): string[];
export interface ImportEdge {
  from: string;
  to: string | undefined;
  spec: string;
}
export declare function importGraph(root: string): ImportEdge[];
export declare function folderOf(p: string): string;
