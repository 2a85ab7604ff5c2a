import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { parseRest } from '../src/rest/parse-rest.ts';
import { FieldError } from '../src/rest/request-fields.ts';
import { conversationListRequest, converseRequest, deleteConvRequest, uploadFilesRequest } from '../src/rest/schemas.ts';

const request = (query: Record<string, unknown>, body?: unknown) => ({ query, body }) as unknown as Request;

function refusal(fn: () => unknown): FieldError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldError) return err;
    throw err;
  }
  throw new Error('expected a FieldError');
}

describe('parseRest: a REST request read by its route’s schema', () => {
  it('body fields win; a field the body lacks comes from the query string; empty and null name nothing', () => {
    const q = parseRest(deleteConvRequest, request({ conversation_id: 'from-query', user: 'q' }, { conversation_id: 'from-body', user: '' }));
    expect(q).toEqual({ conversation_id: 'from-body', user: 'q' });
    expect(parseRest(deleteConvRequest, request({ conversation_id: ['a', 'b'] }, null))).toEqual({ conversation_id: 'a' });
  });

  it('user, alias user_id, is one `user` in the output', () => {
    expect(parseRest(deleteConvRequest, request({ conversation_id: 'c', user_id: 'ann' })).user).toBe('ann');
    expect(parseRest(deleteConvRequest, request({ conversation_id: 'c', user_id: 'ann' }, { user: 'bob' })).user).toBe('bob');
  });

  it('GET routes read the query string; limits are coerced and checked', () => {
    expect(parseRest(conversationListRequest, request({ limit: '5', last_id: 'x' }))).toEqual({ limit: 5, last_id: 'x' });
    const err = refusal(() => parseRest(conversationListRequest, request({ limit: 'many' })));
    expect(err.detail.param).toBe('limit');
    expect(err.envelopeMessage).toBeUndefined();
  });

  it('body-only fields are never read from the query string', () => {
    const err = refusal(() => parseRest(converseRequest, request({ query: 'from the url' }, {})));
    expect(err.envelopeMessage).toBe('请提供查询内容');
    expect(parseRest(converseRequest, request({ response_mode: 'streaming' }, { query: 'q', files: ['a', { upload_file_id: 'f' }] }))).toMatchObject({
      query: 'q',
      response_mode: 'streaming',
      files: ['a', { upload_file_id: 'f' }],
    });
  });

  it('a bad field is a FieldError naming it, with the contract’s message where the route has one', () => {
    expect(refusal(() => parseRest(converseRequest, request({}, { query: '   ' }))).envelopeMessage).toBe('请提供查询内容');
    const mode = refusal(() => parseRest(converseRequest, request({}, { query: 'q', response_mode: 'fast' })));
    expect(mode.detail.param).toBe('response_mode');
    expect(mode.envelopeMessage).toBeUndefined();
    expect(refusal(() => parseRest(converseRequest, request({}, { query: 'q', files: 'a.txt' }))).detail.param).toBe('files');
    expect(refusal(() => parseRest(uploadFilesRequest, request({}, { file_paths: [] }))).envelopeMessage).toBe('请提供有效的文件路径列表');
    expect(refusal(() => parseRest(uploadFilesRequest, request({}, { file_paths: ['a', 3] }))).detail.param).toBe('file_paths[1]');
    expect(refusal(() => parseRest(deleteConvRequest, request({}, {}))).message).toBe('conversation_id: is required');
    expect(refusal(() => parseRest(deleteConvRequest, request({}, { conversation_id: 'c', user: 7 }))).detail.param).toBe('user');
  });

  it('a body naming __proto__ changes nothing', () => {
    const body = JSON.parse('{"conversation_id":"c","__proto__":{"user":"evil"}}') as unknown;
    expect(parseRest(deleteConvRequest, request({}, body))).toEqual({ conversation_id: 'c' });
  });
});
