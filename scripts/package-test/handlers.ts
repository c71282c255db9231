// A handlers module written in TypeScript for `queue work --handlers ./handlers.ts`.
interface Numbered {
  readonly n: number;
}

export default {
  triple: async ({ n }: Numbered): Promise<number> => n * 3,
};
