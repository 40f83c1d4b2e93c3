// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ZkLinkBase, IGroth16Verifier, IERC20Like} from "./ZkLinkBase.sol";

/// @title zklink rollup contract for one connected chain
/// @notice One deployment per connected EVM chain, behind a ZkLinkProxy. Byte layouts, the
/// commitment and the rolling per-chain hash are specified in docs/protocol.md (§8 pubdata, §9
/// commitment, §13 contracts). A block goes commit → prove → sync → execute on every chain:
///
/// * Users deposit (native coin or listed ERC-20s, scaled from L1 decimals to 18) and request full
///   exits; both enter this chain's priority queue with an expiry.
/// * Validators commit blocks: this contract receives only this chain's on-chain ops, recomputes
///   this chain's rolling hash, checks deposits and full exits against the queue in order and
///   change-pubkey authorisations, and stores the block's commitment. A data-availability chain
///   also receives the whole pubdata and checks its hash.
/// * Anyone proves committed blocks with their Groth16 proofs, and syncs them with a quorum of
///   oracle signatures over (network id, block number, sync hash).
/// * Validators execute proven, synced blocks: withdrawals and exits become pending balances
///   (paid to a fast-withdrawal acceptor where there is one), and executed requests leave the
///   queue. Blocks not yet executed can be reverted.
///
/// Governance, claims, fast-withdrawal acceptance and exodus live in ZkLinkPeriphery, reached
/// through this contract's fallback (delegatecall, same storage).
contract ZkLink is ZkLinkBase {
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant CHANGE_PUBKEY_TYPEHASH =
        keccak256("ChangePubKey(bytes20 pubKeyHash,uint32 nonce,uint32 accountId)");
    bytes32 internal constant SYNC_BLOCK_TYPEHASH =
        keccak256("SyncBlock(uint32 networkId,uint32 blockNumber,bytes32 syncHash)");

    /// The ZkLinkPeriphery every unknown selector is delegated to.
    address public immutable PERIPHERY;

    /// A block as the validator commits it to this chain.
    struct CommitBlockInfo {
        uint32 blockNumber;
        uint64 timestamp;
        bytes32 newStateRoot;
        /// sha256(pubdata); ignored on a data-availability chain, which hashes `pubdata` itself.
        bytes32 pubdataHash;
        /// The full pubdata (data-availability chains only; empty elsewhere).
        bytes pubdata;
        /// This chain's on-chain ops in block order, each with its chunk padding.
        bytes onchainOps;
        /// H_1..H_n; the entry of this chain must equal the hash recomputed from `onchainOps`.
        bytes32[] chainHashes;
        /// One entry per ChangePubKey op in `onchainOps`: a 65-byte EIP-712 signature by the
        /// owner, or empty when the key was authorised beforehand with `setAuthPubkeyHash`.
        bytes[] changePubKeyAuth;
    }

    /// A block to execute: as stored, with this chain's Withdraw, FullExit and ForcedExit ops in
    /// block order (each chunk-padded), whose keccak chain is `pendingOnchainOpsHash`.
    struct ExecuteBlockInfo {
        StoredBlockInfo storedBlock;
        bytes pendingOnchainOps;
    }

    constructor(Config memory config, address periphery) ZkLinkBase(config) {
        if (periphery.code.length == 0) revert BadConfig("periphery has no code");
        PERIPHERY = periphery;
    }

    /// Sets up a proxy's storage (called once, by ZkLinkProxy's constructor).
    function initialize(address governor_, bytes32 genesisRoot) external {
        if (initialized) revert AlreadyInitialized();
        if (governor_ == address(0)) revert BadConfig("governor");
        initialized = true;
        governor = governor_;
        StoredBlockInfo memory genesis = StoredBlockInfo(0, 0, bytes32(0), 0, genesisRoot, bytes32(0), bytes32(0));
        storedBlockHashes[0] = keccak256(abi.encode(genesis));
        emit GovernorChanged(governor_);
    }

    /// Everything else (governance, claims, fast withdrawals, exodus) runs in ZkLinkPeriphery.
    fallback() external payable {
        address periphery = PERIPHERY;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), periphery, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// Plain coin transfers are refused: deposits go through `depositETH`.
    receive() external payable {
        revert BadDeposit("send the native coin with depositETH");
    }

    /// EIP-712 domain of change-pubkey authorisations: this chain and this (proxy) address.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, keccak256("zklink"), keccak256("1"), block.chainid, address(this))
        );
    }

    // ================================================================ deposits and full exits
    /// Deposits the native coin to `to`'s sub-account on L2.
    function depositETH(address to, uint8 subAccountId) external payable nonReentrant active {
        uint16 tokenId = tokenIds[address(0)];
        if (tokenId == 0) revert TokenNotListed(0);
        _deposit(tokenId, msg.value, to, subAccountId, false);
    }

    /// Deposits `amount` (L1 units) of a listed ERC-20; what arrives is credited, so a
    /// fee-on-transfer token credits the received amount. `mapToUsd` credits a stablecoin as USD.
    function depositERC20(address token, uint128 amount, address to, uint8 subAccountId, bool mapToUsd)
        external
        nonReentrant
        active
    {
        uint16 tokenId = tokenIds[token];
        if (tokenId == 0 || token == address(0)) revert TokenNotListed(0);
        // Checked before taking the tokens too, so a paused token costs nothing to try.
        if (tokens[tokenId].paused) revert DepositsPaused(tokenId);
        uint256 before = IERC20Like(token).balanceOf(address(this));
        _callOptionalBool(token, abi.encodeCall(IERC20Like.transferFrom, (msg.sender, address(this), amount)));
        uint256 received = IERC20Like(token).balanceOf(address(this)) - before;
        _deposit(tokenId, received, to, subAccountId, mapToUsd);
    }

    function _deposit(uint16 tokenId, uint256 l1Amount, address to, uint8 subAccountId, bool mapToUsd) internal {
        Token memory t = tokens[tokenId];
        if (t.paused) revert DepositsPaused(tokenId);
        // Addresses starting with 8 ff bytes are reserved (account 1 and the AMM pools).
        if (to == address(0) || uint160(to) >> 96 == type(uint64).max) revert BadDeposit("receiver");
        if (subAccountId >> SUB_ACCOUNT_BITS != 0) revert BadDeposit("sub-account out of range");
        if (mapToUsd && (tokenId < MIN_STABLECOIN_ID || tokenId > MAX_STABLECOIN_ID)) {
            revert BadDeposit("only stablecoins (ids 17..=31) map to USD");
        }
        uint256 amount = l1Amount * 10 ** (L2_DECIMALS - t.decimals);
        if (amount == 0) revert BadDeposit("zero amount");
        if (amount > t.maxDeposit) revert BadDeposit("above the per-deposit cap");
        uint16 l2Token = mapToUsd ? USD_TOKEN_ID : tokenId;
        // Deposit op (§8) with account id 0: L2 assigns it, so the queue ignores that field.
        bytes memory op = abi.encodePacked(
            OP_DEPOSIT, CHAIN_ID, uint32(0), subAccountId, tokenId, l2Token, uint128(amount), to, uint8(0)
        );
        _enqueue(OP_DEPOSIT, op);
    }

    /// Asks L2 to exit the whole balance of (accountId, subAccountId, l2TokenId) to this chain as
    /// l1TokenId. Pays nothing unless the sender owns the account; L2 must process it in order.
    function requestFullExit(uint32 accountId, uint8 subAccountId, uint16 l1TokenId, uint16 l2TokenId)
        external
        nonReentrant
        active
    {
        if (accountId >> ACCOUNT_BITS != 0 || accountId == GLOBAL_ASSET_ACCOUNT_ID) revert BadFullExit("account id");
        if (subAccountId >> SUB_ACCOUNT_BITS != 0) revert BadFullExit("sub-account out of range");
        if (!tokens[l1TokenId].registered) revert TokenNotListed(l1TokenId);
        bool usd = l2TokenId == USD_TOKEN_ID && l1TokenId >= MIN_STABLECOIN_ID && l1TokenId <= MAX_STABLECOIN_ID;
        if (l2TokenId != l1TokenId && !usd) revert BadFullExit("token mapping");
        bytes memory op = abi.encodePacked(
            OP_FULL_EXIT, CHAIN_ID, accountId, subAccountId, l1TokenId, l2TokenId, uint128(0), msg.sender, uint8(0)
        );
        _enqueue(OP_FULL_EXIT, op);
    }

    /// Authorises `pubKeyHash` as the L2 key of the sender's account at account nonce `nonce`,
    /// for a ChangePubKey op committed later without a signature.
    function setAuthPubkeyHash(bytes20 pubKeyHash, uint32 nonce) external {
        if (authFacts[msg.sender][nonce] != bytes20(0)) revert BadChangePubKeyAuth(0, "already set for this nonce");
        authFacts[msg.sender][nonce] = pubKeyHash;
        emit AuthPubkeyHash(msg.sender, nonce, pubKeyHash);
    }

    function _enqueue(uint8 opType, bytes memory op) internal {
        uint64 serialId = firstPriorityRequestId + totalOpenPriorityRequests;
        uint64 expiration = uint64(block.number) + PRIORITY_EXPIRATION_BLOCKS;
        priorityRequests[serialId] = PriorityRequest(_queueHash(op), expiration, opType);
        totalOpenPriorityRequests++;
        emit NewPriorityRequest(msg.sender, serialId, opType, op, expiration);
    }

    // ================================================================ commit
    /// Commits `newBlocks` on top of `lastCommitted` (the latest committed block, as stored).
    function commitBlocks(StoredBlockInfo memory lastCommitted, CommitBlockInfo[] calldata newBlocks)
        external
        onlyValidator
        nonReentrant
        active
    {
        _requireStored(lastCommitted);
        if (lastCommitted.blockNumber != totalBlocksCommitted) {
            revert WrongBlockNumber(totalBlocksCommitted, lastCommitted.blockNumber);
        }
        for (uint256 i = 0; i < newBlocks.length; i++) {
            lastCommitted = _commitOne(lastCommitted, newBlocks[i]);
            storedBlockHashes[lastCommitted.blockNumber] = keccak256(abi.encode(lastCommitted));
            emit BlockCommit(lastCommitted.blockNumber, lastCommitted);
        }
        totalBlocksCommitted = lastCommitted.blockNumber;
    }

    function _commitOne(StoredBlockInfo memory prev, CommitBlockInfo calldata b)
        internal
        returns (StoredBlockInfo memory)
    {
        if (b.blockNumber != prev.blockNumber + 1) revert WrongBlockNumber(prev.blockNumber + 1, b.blockNumber);
        if (b.timestamp < prev.timestamp || b.timestamp > block.timestamp + 1 hours) {
            revert BadTimestamp(prev.timestamp, b.timestamp);
        }
        bytes32 pubdataHash = b.pubdataHash;
        if (DATA_AVAILABILITY) {
            if (b.pubdata.length == 0 || b.pubdata.length % CHUNK_BYTES != 0) revert BadPubdata("length");
            pubdataHash = sha256(b.pubdata);
        } else if (b.pubdata.length != 0) {
            revert BadPubdata("only data-availability chains take pubdata");
        }
        (bytes32 chainHash, uint64 priorityOps, bytes32 pendingHash) = _processOnchainOps(b);
        if (b.chainHashes.length != CHAIN_COUNT) revert BadPubdata("one hash per connected chain");
        if (b.chainHashes[CHAIN_ID - 1] != chainHash) revert ChainHashMismatch(chainHash, b.chainHashes[CHAIN_ID - 1]);
        bytes32 commitment = sha256(
            abi.encodePacked(
                b.blockNumber, b.timestamp, prev.stateRoot, b.newStateRoot, pubdataHash, abi.encodePacked(b.chainHashes)
            )
        );
        return StoredBlockInfo(
            b.blockNumber,
            priorityOps,
            pendingHash,
            b.timestamp,
            b.newStateRoot,
            commitment,
            keccak256(abi.encodePacked(prev.syncHash, commitment))
        );
    }

    /// Walks this chain's on-chain ops: rolls H_c, checks priority requests in queue order and
    /// change-pubkey authorisations, and chains the ops that pay out at execution.
    function _processOnchainOps(CommitBlockInfo calldata b)
        internal
        returns (bytes32 chainHash, uint64 priorityOps, bytes32 pendingHash)
    {
        bytes calldata ops = b.onchainOps;
        uint256 cpk = 0;
        uint256 offset = 0;
        while (offset < ops.length) {
            uint8 code = uint8(ops[offset]);
            uint256 len = _onchainOpChunks(code, offset) * CHUNK_BYTES;
            if (offset + len > ops.length) revert BadOnchainOp(offset, "truncated");
            bytes calldata op = ops[offset:offset + len];
            if (uint8(op[1]) != CHAIN_ID) revert BadOnchainOp(offset, "op of another chain");
            chainHash = sha256(abi.encodePacked(chainHash, op));
            if (code == OP_DEPOSIT || code == OP_FULL_EXIT) {
                _checkPriorityRequest(op, totalCommittedPriorityRequests + priorityOps, offset);
                priorityOps++;
            }
            if (code == OP_CHANGE_PUBKEY) {
                if (cpk >= b.changePubKeyAuth.length) revert BadChangePubKeyAuth(offset, "missing");
                _checkChangePubKey(op, b.changePubKeyAuth[cpk], offset);
                cpk++;
            }
            if (code == OP_WITHDRAW || code == OP_FULL_EXIT || code == OP_FORCED_EXIT) {
                (uint16 l1Token, uint128 amount,) = _payout(op);
                if (!tokens[l1Token].registered) revert BadOnchainOp(offset, "L1 token not listed on this chain");
                if (amount % _scale(l1Token) != 0) revert BadOnchainOp(offset, "amount is not a whole L1 unit");
                pendingHash = keccak256(abi.encodePacked(pendingHash, op));
            }
            offset += len;
        }
        if (cpk != b.changePubKeyAuth.length) revert BadChangePubKeyAuth(offset, "more authorisations than ops");
        totalCommittedPriorityRequests += priorityOps;
    }

    function _onchainOpChunks(uint8 code, uint256 offset) internal pure returns (uint256) {
        if (code == OP_DEPOSIT || code == OP_FULL_EXIT) return 2;
        if (code == OP_WITHDRAW || code == OP_CHANGE_PUBKEY || code == OP_FORCED_EXIT) return 3;
        revert BadOnchainOp(offset, "not an on-chain op code");
    }

    /// The op must be the request with queue position `index` (counted from the first open one).
    function _checkPriorityRequest(bytes calldata op, uint64 index, uint256 offset) internal view {
        if (index >= totalOpenPriorityRequests) revert PriorityQueueExhausted(offset);
        uint64 serialId = firstPriorityRequestId + index;
        PriorityRequest storage r = priorityRequests[serialId];
        if (r.opType != uint8(op[0]) || r.hashedPubData != _queueHash(op)) {
            revert PriorityQueueMismatch(serialId, offset);
        }
    }

    /// ChangePubKey op (§8): `06 ‖ chain ‖ account u32 ‖ sub ‖ new_pkh 20 ‖ owner 20 ‖ nonce u32 ‖ …`.
    function _checkChangePubKey(bytes calldata op, bytes calldata auth, uint256 offset) internal view {
        uint32 accountId = uint32(bytes4(op[2:6]));
        bytes20 pkh = bytes20(op[7:27]);
        address owner = address(bytes20(op[27:47]));
        uint32 nonce = uint32(bytes4(op[47:51]));
        if (auth.length == 0) {
            if (authFacts[owner][nonce] != pkh) revert BadChangePubKeyAuth(offset, "no on-chain authorisation");
            return;
        }
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", domainSeparator(), keccak256(abi.encode(CHANGE_PUBKEY_TYPEHASH, pkh, nonce, accountId))
            )
        );
        address signer = _recover(digest, auth);
        if (signer == address(0)) revert BadChangePubKeyAuth(offset, "malformed or malleable signature");
        if (signer != owner) revert BadChangePubKeyAuth(offset, "not signed by the owner");
    }

    // ================================================================ prove
    /// Proves committed blocks in order: `blocks[i]` is the next unproven block as stored,
    /// `chunks[i]` its shape (which verifier), `proofs[i]` its Groth16 proof.
    function proveBlocks(StoredBlockInfo[] calldata blocks, uint32[] calldata chunks, uint256[8][] calldata proofs)
        external
        nonReentrant
        active
    {
        if (blocks.length == 0 || blocks.length != chunks.length || blocks.length != proofs.length) {
            revert NothingToDo();
        }
        uint32 next = totalBlocksProven;
        for (uint256 i = 0; i < blocks.length; i++) {
            next++;
            if (blocks[i].blockNumber != next) revert WrongBlockNumber(next, blocks[i].blockNumber);
            _requireStored(blocks[i]);
            address verifier = blockVerifiers[chunks[i]];
            if (verifier == address(0)) revert NoVerifier(chunks[i]);
            uint256 input = uint256(blocks[i].commitment) & INPUT_MASK;
            if (!IGroth16Verifier(verifier).verifyProof(proofs[i], input)) revert InvalidProof(next);
            emit BlockProven(next);
        }
        totalBlocksProven = next;
    }

    // ================================================================ sync
    /// Syncs every committed block up to `block_` with oracle signatures: EIP-712 (domain
    /// `ORACLE_DOMAIN_SEPARATOR`) over `SyncBlock(networkId, blockNumber, syncHash)`, 65 bytes each,
    /// by distinct oracles of the current set in ascending address order, at least the threshold.
    /// The sync hash chains every earlier commitment, so one attestation covers all blocks up to it.
    function syncBlocks(StoredBlockInfo calldata block_, bytes[] calldata signatures) external nonReentrant active {
        _requireStored(block_);
        if (block_.blockNumber <= totalBlocksSynced) revert AlreadySynced(totalBlocksSynced, block_.blockNumber);
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                ORACLE_DOMAIN_SEPARATOR,
                keccak256(abi.encode(SYNC_BLOCK_TYPEHASH, NETWORK_ID, block_.blockNumber, block_.syncHash))
            )
        );
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _recover(digest, signatures[i]);
            if (signer == address(0)) revert BadSignature(i);
            if (!isOracle[signer]) revert UnknownOracle(signer);
            if (signer <= previous) revert SignaturesNotSorted(previous, signer);
            previous = signer;
        }
        // A threshold of 0 means no oracle set yet: nothing can sync.
        if (signatures.length < oracleThreshold || oracleThreshold == 0) {
            revert TooFewSignatures(signatures.length, oracleThreshold);
        }
        totalBlocksSynced = block_.blockNumber;
        emit BlocksSynced(block_.blockNumber, block_.syncHash, signatures.length);
    }

    // ================================================================ execute
    /// Executes the next proven and synced blocks in order: pays out their Withdraw, FullExit and
    /// ForcedExit ops as pending balances and removes the requests they consumed from the queue.
    function executeBlocks(ExecuteBlockInfo[] calldata blocks) external onlyValidator nonReentrant active {
        if (blocks.length == 0) revert NothingToDo();
        uint32 next = totalBlocksExecuted;
        uint64 priorityOps = 0;
        for (uint256 i = 0; i < blocks.length; i++) {
            next++;
            StoredBlockInfo calldata b = blocks[i].storedBlock;
            if (b.blockNumber != next) revert WrongBlockNumber(next, b.blockNumber);
            if (next > totalBlocksProven) revert NotProven(next);
            if (next > totalBlocksSynced) revert NotSynced(next);
            _requireStored(b);
            if (_executeOnchainOps(blocks[i].pendingOnchainOps) != b.pendingOnchainOpsHash) {
                revert PendingOpsMismatch(next);
            }
            priorityOps += b.priorityOperations;
            emit BlockExecuted(next, b.stateRoot);
        }
        _popPriorityRequests(priorityOps);
        totalCommittedPriorityRequests -= priorityOps;
        totalBlocksExecuted = next;
    }

    /// Credits each op's payout and returns the keccak chain of the ops (checked by the caller).
    function _executeOnchainOps(bytes calldata ops) internal returns (bytes32 hash) {
        uint256 offset = 0;
        while (offset < ops.length) {
            uint8 code = uint8(ops[offset]);
            if (code != OP_WITHDRAW && code != OP_FULL_EXIT && code != OP_FORCED_EXIT) {
                revert BadOnchainOp(offset, "not an op that pays out");
            }
            uint256 len = _onchainOpChunks(code, offset) * CHUNK_BYTES;
            if (offset + len > ops.length) revert BadOnchainOp(offset, "truncated");
            bytes calldata op = ops[offset:offset + len];
            hash = keccak256(abi.encodePacked(hash, op));
            (uint16 l1Token, uint128 amount, address to) = _payout(op);
            if (code == OP_WITHDRAW) to = _withdrawalPayee(op, to, l1Token, amount);
            // Exact: commitBlocks only accepts amounts that are whole L1 units.
            _creditPending(to, l1Token, uint128(amount / _scale(l1Token)));
            offset += len;
        }
    }

    /// Who is paid for a Withdraw op: its acceptor if one paid the receiver early, else the
    /// receiver, who is then recorded so the withdrawal can no longer be accepted.
    function _withdrawalPayee(bytes calldata op, address receiver, uint16 l1Token, uint128 amount)
        internal
        returns (address)
    {
        // Withdraw (§8): account 2..6, sub 6, nonce 49..53, fee ratio 53..55.
        bytes32 key = _withdrawalKey(
            receiver,
            l1Token,
            amount,
            uint16(bytes2(op[53:55])),
            uint32(bytes4(op[2:6])),
            uint8(op[6]),
            uint32(bytes4(op[49:53]))
        );
        address payee = withdrawalPayee[key];
        if (payee != address(0)) return payee;
        withdrawalPayee[key] = receiver;
        return receiver;
    }

    // ================================================================ revert
    /// Reverts committed, unexecuted blocks from the newest down: `blocks` as stored, newest first.
    /// The requests they consumed return to the queue; proven and synced counters follow.
    function revertBlocks(StoredBlockInfo[] calldata blocks) external onlyValidator nonReentrant active {
        if (blocks.length == 0) revert NothingToDo();
        uint32 committed = totalBlocksCommitted;
        for (uint256 i = 0; i < blocks.length; i++) {
            if (committed <= totalBlocksExecuted) revert AlreadyExecuted(committed);
            if (blocks[i].blockNumber != committed) revert WrongBlockNumber(committed, blocks[i].blockNumber);
            _requireStored(blocks[i]);
            delete storedBlockHashes[committed];
            totalCommittedPriorityRequests -= blocks[i].priorityOperations;
            committed--;
        }
        totalBlocksCommitted = committed;
        if (totalBlocksProven > committed) totalBlocksProven = committed;
        if (totalBlocksSynced > committed) totalBlocksSynced = committed;
        emit BlocksRevert(totalBlocksExecuted, committed);
    }

    // ================================================================ helpers
    /// Token, amount (L2 units) and receiver of a Withdraw, FullExit or ForcedExit op (§8).
    function _payout(bytes calldata op) internal pure returns (uint16 l1Token, uint128 amount, address to) {
        uint8 code = uint8(op[0]);
        if (code == OP_FORCED_EXIT) {
            return (uint16(bytes2(op[12:14])), uint128(bytes16(op[20:36])), address(bytes20(op[36:56])));
        }
        address receiver = code == OP_WITHDRAW ? address(bytes20(op[29:49])) : address(bytes20(op[27:47]));
        return (uint16(bytes2(op[7:9])), uint128(bytes16(op[11:27])), receiver);
    }

    /// The signer of a 65-byte (r ‖ s ‖ v) signature of `digest`, or 0 if it is malformed or
    /// malleable (high s, v other than 27 or 28).
    function _recover(bytes32 digest, bytes calldata sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > SECP256K1_HALF_N || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, bytes32(sig[0:32]), s);
    }
}
